import type { ChatResponse, ReasoningPart, Usage } from "../../canonical/chat.js";
import type { ResponseMeta } from "../chat-ingress-format.js";
import { toolCallIdForClient } from "../tool-call-id-carrier.js";

/**
 * Reasoning goes to chat-completions clients in `reasoning_content`, the field vLLM, DeepSeek and
 * the clients that read them (LangChain among them) use; never mixed into `content`.
 */
export function reasoningText(parts: readonly ReasoningPart[] | undefined): string {
  return (parts ?? []).map((part) => (part.type === "thinking" ? part.text : "")).join("");
}

export function encodeOpenAiUsage(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    ...(usage.cacheReadTokens !== undefined
      ? { prompt_tokens_details: { cached_tokens: usage.cacheReadTokens } }
      : {}),
    ...(usage.reasoningTokens !== undefined
      ? { completion_tokens_details: { reasoning_tokens: usage.reasoningTokens } }
      : {}),
  };
}

/** Switchboard's extension: the raw upstream reason and whether usage was estimated; SDKs ignore it. */
export function switchboardExtension(
  rawFinishReason: string,
  usage: Usage | undefined,
): Record<string, unknown> {
  return { raw_finish_reason: rawFinishReason, usage_estimated: usage?.estimated ?? true };
}

export function encodeOpenAiChatResponse(
  response: ChatResponse,
  meta: ResponseMeta,
): Record<string, unknown> {
  const toolCalls = response.toolCalls.map((call, i) => ({
    id: toolCallIdForClient(call, i === 0 ? response.reasoning : []),
    type: "function",
    function: { name: call.name, arguments: call.arguments },
  }));
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: response.content === "" && toolCalls.length > 0 ? null : response.content,
          refusal: null,
          ...(reasoningText(response.reasoning)
            ? { reasoning_content: reasoningText(response.reasoning) }
            : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: response.finishReason,
      },
    ],
    ...(response.usage ? { usage: encodeOpenAiUsage(response.usage) } : {}),
    switchboard: switchboardExtension(response.rawFinishReason, response.usage),
  };
}
