import type { FinishReason } from "../../canonical/chat.js";

/** OpenAI-style servers already speak the target set; `function_call` and unknowns are normalised. */
export function mapOpenAiFinishReason(raw: string | null | undefined, sawToolCalls: boolean): FinishReason {
  if (sawToolCalls && (raw === "tool_calls" || raw === "function_call" || raw === "stop"))
    return "tool_calls";
  switch (raw) {
    case "length":
      return "length";
    case "content_filter":
      return "content_filter";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    default:
      return "stop";
  }
}
