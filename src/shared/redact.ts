/**
 * The one redaction path for everything the processes show: error bodies, stream error events,
 * log lines, status messages and Events. It masks
 * - every credential value registered by the config in force (and any passed in), including
 *   fragments of them: a run of MIN_FRAGMENT or more characters copied out of a secret is masked
 *   wherever the text was cut;
 * - credential-shaped tokens nobody registered (API keys, bearer tokens, AWS key ids, JWTs).
 * Text must be redacted before it is cut to length, so a cut never leaves a piece that no longer
 * matches; `redactedExcerpt` does both in that order.
 */

const MASK = "[REDACTED]";
/** Shorter runs occur by chance in ordinary text; longer ones of a random key do not. */
const MIN_FRAGMENT = 8;
/** A value this short cannot be told apart from ordinary words, so it is not masked. */
const MIN_SECRET = 6;

/**
 * `sk-` keys (OpenAI, Anthropic) are matched even right after a word character, as a cut or a
 * careless upstream may glue them to one, but then only when they hold a digit, as real keys do
 * and words like "task-management" don't.
 */
const SK_KEY = /sk-(?:ant-|proj-)?[A-Za-z0-9_*-]{8,}/g;
const SECRET_PATTERNS: RegExp[] = [
  /(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{5,}/g,
  /AIza[0-9A-Za-z_-]{20,}/g,
  /ya29\.[0-9A-Za-z_-]{10,}/g,
];

interface Matcher {
  /** Every MIN_FRAGMENT-long window of every secret, as written and as JSON-escaped. */
  windows: Set<string>;
  /** Secrets too short for a window, masked only whole. */
  short: string[];
}

function compile(secrets: Iterable<string>): Matcher {
  const windows = new Set<string>();
  const short: string[] = [];
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET) continue;
    if (secret.length < MIN_FRAGMENT) {
      short.push(secret);
      continue;
    }
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1)])) {
      for (let i = 0; i + MIN_FRAGMENT <= form.length; i++) {
        const window = form.slice(i, i + MIN_FRAGMENT);
        // PEM armour and spaced phrases share windows with ordinary text; their bodies do not.
        if (!/\s|\\[nrt]|--/.test(window)) windows.add(window);
      }
    }
  }
  return { windows, short };
}

function maskKnown(text: string, matcher: Matcher): string {
  let out = text;
  for (const secret of matcher.short) out = out.split(secret).join(MASK);
  if (matcher.windows.size === 0 || out.length < MIN_FRAGMENT) return out;
  const spans: Array<[number, number]> = [];
  for (let i = 0; i + MIN_FRAGMENT <= out.length; i++) {
    if (!matcher.windows.has(out.slice(i, i + MIN_FRAGMENT))) continue;
    const last = spans[spans.length - 1];
    if (last && i <= last[1]) last[1] = i + MIN_FRAGMENT;
    else spans.push([i, i + MIN_FRAGMENT]);
  }
  if (spans.length === 0) return out;
  let result = "";
  let from = 0;
  for (const [start, end] of spans) {
    result += out.slice(from, start) + MASK;
    from = end;
  }
  return result + out.slice(from);
}

function maskPatterns(text: string): string {
  let out = text.replace(SK_KEY, (match: string, offset: number, whole: string) =>
    /\d/.test(match) || offset === 0 || !/\w/.test(whole[offset - 1]!) ? MASK : match,
  );
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, MASK);
  return out;
}

/** Credential values of each config in force in this process, by the component that loaded it. */
const registered = new Map<object, readonly string[]>();
let registeredMatcher: Matcher = compile([]);

/** Makes `values` known to every redaction in this process, replacing what `owner` registered before. */
export function registerSecrets(owner: object, values: readonly string[]): void {
  registered.set(owner, values);
  registeredMatcher = compile([...registered.values()].flat());
}

export function unregisterSecrets(owner: object): void {
  if (registered.delete(owner)) registeredMatcher = compile([...registered.values()].flat());
}

export function redactSecrets(text: string, knownSecrets: readonly string[] = []): string {
  let out = maskKnown(text, registeredMatcher);
  if (knownSecrets.length > 0) out = maskKnown(out, compile(knownSecrets));
  return maskPatterns(out);
}

/** At most `maxChars` of `text`, redacted before it is cut. */
export function redactedExcerpt(
  text: string,
  maxChars: number,
  knownSecrets: readonly string[] = [],
): string {
  const redacted = redactSecrets(text, knownSecrets);
  return redacted.length > maxChars ? `${redacted.slice(0, maxChars)}…` : redacted;
}
