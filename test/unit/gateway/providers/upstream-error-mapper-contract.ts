import { expect, it } from "vitest";
import type { GatewayError } from "../../../../src/shared/errors.js";

/** The shape of the mappers for non-2xx upstream answers (Anthropic, OpenAI-format and Google bodies). */
export type UpstreamErrorMapper = (
  status: number,
  headers: Record<string, string>,
  bodyText: string,
  providerName: string,
  secrets?: readonly string[],
) => GatewayError;

const NAME = "test provider ns/p";
const LEAKED_KEY = "sk-leaky0123456789abcdef";
/** A key the way providers issue them: long, random, with digits. */
const REAL_KEY = "sk-proj-Zq7Xw2Vb9Ns4Lm1Kd8Hf3Gj6Tp0Ry5Ue";

/** Fails if any 8 characters in a row of `key` appear in what the client would see. */
function expectNoFragment(err: GatewayError, key: string): void {
  const shown = JSON.stringify({ message: err.message, param: err.param });
  for (let i = 0; i + 8 <= key.length; i++) expect(shown).not.toContain(key.slice(i, i + 8));
}

/**
 * What every upstream error mapper must do whatever the wire format: credential failures never
 * echo upstream text, other text is redacted, Retry-After and the status are kept, and bodies that
 * are not the provider's error format fall back to the HTTP status.
 */
export function itMapsUpstreamErrorsSafely(contract: {
  map: UpstreamErrorMapper;
  /** The provider's own error body for `status` (400, 401, 403 or 429), carrying `message`. */
  body: (status: 400 | 401 | 403 | 429, message: string) => string;
  /** What the credentials message tells the operator to check. */
  credentialsHint: RegExp;
  /** The provider's error body for `status` with every string field (message, type, param, code...) set to `value`. */
  everyField: (status: number, value: string) => string;
}): void {
  const { map, body } = contract;

  it.each([
    [401, "authentication"],
    [403, "permission"],
  ] as const)("answers HTTP %i with %s and never echoes the upstream's text", (status, errorClass) => {
    const err = map(status, {}, body(status, `Incorrect API key provided: ${LEAKED_KEY}`), NAME, [
      LEAKED_KEY,
    ]);
    expect(err).toMatchObject({ errorClass, upstreamStatus: status });
    expect(err.message).toContain(NAME);
    expect(err.message).toMatch(contract.credentialsHint);
    expect(err.message).not.toContain("leaky");
    expect(err.message).not.toContain("Incorrect API key");
  });

  it("passes other upstream text on with known secrets and key-shaped tokens redacted", () => {
    const err = map(
      400,
      {},
      body(400, "bad header Bearer abcdefghijklmnop, key sk-ant-abcdefghijkl and my-own-secret-value"),
      NAME,
      ["my-own-secret-value"],
    );
    expect(err.errorClass).toBe("invalid_request");
    expect(err.message.startsWith(NAME)).toBe(true);
    expect(err.message).toMatch(/: bad header \[REDACTED\], key \[REDACTED\] and \[REDACTED\]$/);
  });

  it.each([400, 401, 403, 404, 413, 429, 500, 503])(
    "lets no field of an HTTP %i error body carry the request's key to the client",
    (status) => {
      expectNoFragment(map(status, {}, contract.everyField(status, REAL_KEY), NAME, [REAL_KEY]), REAL_KEY);
      expectNoFragment(map(status, {}, contract.everyField(status, `x${REAL_KEY}`), NAME), REAL_KEY);
    },
  );

  it("redacts a body in no known format before cutting it, wherever the cut falls in a key", () => {
    for (let inKey = 1; inKey < REAL_KEY.length; inKey++) {
      // A word character right before the key, as in "token_sk-…", defeats a \b-anchored pattern.
      const bodyText = `${"k".repeat(300 - inKey)}${REAL_KEY} trailing text`;
      expectNoFragment(map(502, {}, bodyText, NAME, [REAL_KEY]), REAL_KEY);
    }
  });

  it("masks an unregistered key glued to a word, and leaves words that merely contain sk- alone", () => {
    const err = map(400, {}, body(400, `token_${REAL_KEY} for task-management-system`), NAME);
    expectNoFragment(err, REAL_KEY);
    expect(err.message).toContain("task-management-system");
  });

  it("keeps the upstream status and Retry-After", () => {
    const err = map(429, { "retry-after": "7" }, body(429, "slow down"), NAME);
    expect(err).toMatchObject({ errorClass: "rate_limit", retryAfterSeconds: 7, upstreamStatus: 429 });
    expect(err.message).toContain("slow down");
  });

  it("falls back to the HTTP status for bodies in no known format, keeping their text short", () => {
    const html = map(502, {}, `<html>${"x".repeat(1000)}</html>`, NAME);
    expect(html.errorClass).toBe("upstream_unavailable");
    expect(html.message).toContain("<html>xxx");
    expect(html.message.length).toBeLessThan(400);
    expect(map(404, {}, "", NAME).errorClass).toBe("model_not_found");
  });
}
