import type { FinishReason } from "../../canonical/chat.js";

/** Bedrock's stopReason in the OpenAI set; a turn that produced tool calls ends in tool_calls. */
export function mapBedrockFinishReason(raw: string | undefined, sawToolCalls: boolean): FinishReason {
  switch (raw) {
    case "tool_use":
      return "tool_calls";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "guardrail_intervened":
    case "content_filtered":
      return "content_filter";
    default:
      return sawToolCalls ? "tool_calls" : "stop";
  }
}
