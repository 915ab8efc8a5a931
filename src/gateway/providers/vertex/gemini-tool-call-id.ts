import { randomUUID } from "node:crypto";

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
