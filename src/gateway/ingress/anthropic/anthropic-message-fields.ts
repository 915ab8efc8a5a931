import type { FinishReason, Usage } from "../../canonical/chat.js";

/** Message-level fields that the response and the stream encoders both emit. */

/** Signed thinking blocks come from Claude, on whichever platform served it. */
export const CLAUDE_THINKING_ORIGIN = "anthropic";

export type AnthropicStopReason =
  "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal" | "model_context_window_exceeded";

export interface AnthropicUsage {
  input_tokens: number | null;
  output_tokens: number | null;
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
}

/** Anthropic message ids start with `msg_`; the hex of the gateway's request id follows, so logs still match. */
export function anthropicMessageId(requestId: string): string {
  return requestId.startsWith("msg_") ? requestId : `msg_${requestId.replace(/^[A-Za-z]+[-_]/, "")}`;
}

/**
 * Canonical finish reason → Anthropic stop_reason. The raw upstream reason refines it where
 * Anthropic is more precise (a stop sequence, the context window); OpenAI's "stop" cannot say
 * whether a stop sequence matched, so it reads as end_turn.
 */
export function toAnthropicStopReason(
  finishReason: FinishReason,
  rawFinishReason: string,
): AnthropicStopReason {
  switch (finishReason) {
    case "tool_calls":
      return "tool_use";
    case "length":
      return rawFinishReason === "model_context_window_exceeded"
        ? "model_context_window_exceeded"
        : "max_tokens";
    case "content_filter":
      return "refusal";
    case "stop":
      return rawFinishReason.toLowerCase() === "stop_sequence" ? "stop_sequence" : "end_turn";
  }
}

/**
 * Canonical inputTokens counts all input, as OpenAI's prompt_tokens; Anthropic's input_tokens
 * excludes the cache reads and writes it reports beside it. Unknown counts are null, never 0.
 */
export function toAnthropicUsage(usage: Usage | undefined): AnthropicUsage {
  if (!usage)
    return {
      input_tokens: null,
      output_tokens: null,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
    };
  const cacheRead = usage.cacheReadTokens;
  const cacheWrite = usage.cacheWriteTokens;
  return {
    input_tokens: Math.max(0, usage.inputTokens - (cacheRead ?? 0) - (cacheWrite ?? 0)),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: cacheWrite ?? null,
    cache_read_input_tokens: cacheRead ?? null,
  };
}

/** Switchboard's extension field, which Anthropic SDKs ignore: what the canonical model knows beyond the Anthropic shape. */
export function switchboardExtension(
  rawFinishReason: string,
  usage: Usage | undefined,
): Record<string, unknown> {
  return { raw_finish_reason: rawFinishReason, usage_estimated: usage ? usage.estimated : null };
}
