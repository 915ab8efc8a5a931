import type { FinishReason } from "../../canonical/chat.js";

/** Maps Anthropic's stop_reason into the OpenAI set; the raw reason is kept by the callers. */
export function mapAnthropicFinishReason(
  raw: string | null | undefined,
  sawToolCalls: boolean,
): FinishReason {
  switch (raw) {
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      // end_turn, stop_sequence and pause_turn end the turn; tool calls still win, as clients must answer them.
      return sawToolCalls ? "tool_calls" : "stop";
  }
}
