import type { ReasoningPart, ReasoningSignature, ToolCall } from "../canonical/chat.js";

/**
 * Client APIs have no slot for the reasoning state an upstream needs back with a tool call
 * (Gemini's thoughtSignature; Claude's signed thinking, for OpenAI-format clients), yet clients
 * echo a tool call's id back verbatim with its result and in history. So the state rides in the
 * id the client sees: `<upstream id>~sb1~<base64url JSON>`. Decoding gives back the upstream's own
 * id, which is all any adapter ever sends upstream.
 */

const MARK = "~sb1~";

type Pair = [origin: string, value: string];
type CarriedPart = ["t", text: string, ...Pair] | ["r", ...Pair];

interface Carried {
  /** The call's own signature. */
  s?: Pair;
  /** Signed reasoning of the turn, carried by its first call. */
  r?: CarriedPart[];
}

/** Only signed or redacted reasoning is worth carrying: upstreams need nothing else back. */
function carriedParts(reasoning: readonly ReasoningPart[]): CarriedPart[] {
  return reasoning.flatMap((part): CarriedPart[] => {
    if (part.type === "redacted") return [["r", part.data.origin, part.data.value]];
    return part.signature ? [["t", part.text, part.signature.origin, part.signature.value]] : [];
  });
}

/** The id a client sees for a canonical tool call; `reasoning` only for a turn's first call. */
export function toolCallIdForClient(
  call: Pick<ToolCall, "id" | "signature">,
  reasoning: readonly ReasoningPart[] = [],
): string {
  const carried: Carried = {};
  if (call.signature) carried.s = [call.signature.origin, call.signature.value];
  const parts = carriedParts(reasoning);
  if (parts.length > 0) carried.r = parts;
  if (!carried.s && !carried.r) return call.id;
  return `${call.id}${MARK}${Buffer.from(JSON.stringify(carried)).toString("base64url")}`;
}

function readCarried(encoded: string): Carried {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Carried) : {};
  } catch {
    return {};
  }
}

const isText = (value: unknown): value is string => typeof value === "string";

function signatureOf(pair: unknown): ReasoningSignature | undefined {
  return Array.isArray(pair) && isText(pair[0]) && isText(pair[1])
    ? { origin: pair[0], value: pair[1] }
    : undefined;
}

function reasoningOf(parts: unknown): ReasoningPart[] {
  if (!Array.isArray(parts)) return [];
  return parts.flatMap((part: unknown): ReasoningPart[] => {
    if (!Array.isArray(part)) return [];
    if (part[0] === "r") {
      const data = signatureOf(part.slice(1));
      return data ? [{ type: "redacted", data }] : [];
    }
    const signature = signatureOf(part.slice(2));
    return part[0] === "t" && isText(part[1]) && signature
      ? [{ type: "thinking", text: part[1], signature }]
      : [];
  });
}

/**
 * A client-sent tool call id → the upstream id and the reasoning state it carried. A mangled
 * suffix loses only that state; the upstream decides whether it needs it.
 */
export function toolCallFromClientId(clientId: string): {
  id: string;
  signature?: ReasoningSignature;
  reasoning: ReasoningPart[];
} {
  const at = clientId.indexOf(MARK);
  if (at === -1) return { id: clientId, reasoning: [] };
  const carried = readCarried(clientId.slice(at + MARK.length));
  const signature = signatureOf(carried.s);
  return {
    id: clientId.slice(0, at),
    ...(signature ? { signature } : {}),
    reasoning: reasoningOf(carried.r),
  };
}

/** Only the upstream id identifies a call: results are paired with calls by it. */
export function upstreamToolCallId(clientId: string): string {
  const at = clientId.indexOf(MARK);
  return at === -1 ? clientId : clientId.slice(0, at);
}
