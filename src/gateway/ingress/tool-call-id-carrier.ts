import type { ReasoningSignature, ToolCall } from "../canonical/chat.js";

/**
 * Client APIs have no slot for the reasoning state an upstream attaches to a tool call (Gemini's
 * thoughtSignature), yet clients echo a tool call's id back verbatim with its result and in
 * history. So the state rides in the id the client sees: `<upstream id>~sb1~<base64url JSON>`.
 * Decoding gives back the upstream's own id, which is all any adapter ever sends upstream.
 */

const MARK = "~sb1~";

interface Carried {
  /** origin, value */
  s?: [string, string];
}

/** The id a client sees for a canonical tool call. */
export function toolCallIdForClient(call: Pick<ToolCall, "id" | "signature">): string {
  if (!call.signature) return call.id;
  const carried: Carried = { s: [call.signature.origin, call.signature.value] };
  return `${call.id}${MARK}${Buffer.from(JSON.stringify(carried)).toString("base64url")}`;
}

function readCarried(encoded: string): Carried | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Carried) : undefined;
  } catch {
    return undefined;
  }
}

/** A client-sent tool call id → the upstream id and the reasoning state it carried. */
export function toolCallFromClientId(clientId: string): { id: string; signature?: ReasoningSignature } {
  const at = clientId.indexOf(MARK);
  if (at === -1) return { id: clientId };
  const id = clientId.slice(0, at);
  const s = readCarried(clientId.slice(at + MARK.length))?.s;
  // A mangled suffix loses only the reasoning state; the upstream decides whether it needs it.
  const valid = Array.isArray(s) && typeof s[0] === "string" && typeof s[1] === "string";
  return valid ? { id, signature: { origin: s[0], value: s[1] } } : { id };
}

/** Only the upstream id identifies a call: results are paired with calls by it. */
export function upstreamToolCallId(clientId: string): string {
  const at = clientId.indexOf(MARK);
  return at === -1 ? clientId : clientId.slice(0, at);
}
