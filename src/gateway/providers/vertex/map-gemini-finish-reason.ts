import type { FinishReason } from "../../canonical/chat.js";

const CONTENT_FILTER_REASONS = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
]);

/**
 * Gemini finishes with STOP even when it called functions, so tool calls decide `tool_calls`.
 * Unknown reasons (OTHER, MALFORMED_FUNCTION_CALL...) are `stop`; the raw reason is kept by callers.
 */
export function mapGeminiFinishReason(raw: string | undefined, sawToolCalls: boolean): FinishReason {
  if (raw === "MAX_TOKENS") return "length";
  if (raw !== undefined && CONTENT_FILTER_REASONS.has(raw)) return "content_filter";
  if (sawToolCalls) return "tool_calls";
  return "stop";
}
