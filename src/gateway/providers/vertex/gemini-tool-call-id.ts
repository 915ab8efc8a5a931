import { randomUUID } from "node:crypto";
import type { ReasoningSignature } from "../../canonical/chat.js";
import type { GeminiPart } from "./vertex-wire-types.js";

/**
 * Gemini usually gives function calls no id, while clients answer tool calls by id. Ids are derived
 * from the response id and the call's position, so they are unique across turns and identical in
 * every event of one streamed response.
 */
export function geminiToolCallId(upstreamId: string | undefined, responseKey: string, index: number): string {
  return upstreamId || `call_${responseKey}_${index}`;
}

/** Key for a response's synthesized ids: its responseId when Vertex sent one. */
export function geminiResponseKey(responseId: string | undefined): string {
  return (responseId || randomUUID()).replace(/[^A-Za-z0-9_-]/g, "");
}

/** Origin of the reasoning signatures Gemini attaches; only Gemini gets them back. */
export const GEMINI_SIGNATURE_ORIGIN = "gemini";

/**
 * Google's documented stand-in for a function call Gemini did not make itself (history from
 * another provider's model): without any signature Gemini 3 refuses the request.
 */
export const FOREIGN_CALL_SIGNATURE = "skip_thought_signature_validator";

/** A function-call part's thoughtSignature, as the canonical call carries it. */
export function geminiCallSignature(part: GeminiPart): { signature?: ReasoningSignature } {
  return part.thoughtSignature
    ? { signature: { origin: GEMINI_SIGNATURE_ORIGIN, value: part.thoughtSignature } }
    : {};
}
