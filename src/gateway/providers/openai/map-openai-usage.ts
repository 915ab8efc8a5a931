import type { Usage } from "../../canonical/chat.js";
import type { OpenAiUsage } from "./openai-wire-types.js";

export function mapOpenAiUsage(usage: OpenAiUsage | null | undefined): Usage | undefined {
  if (!usage || (usage.prompt_tokens === undefined && usage.completion_tokens === undefined))
    return undefined;
  const cached = usage.prompt_tokens_details?.cached_tokens;
  // Part of completion_tokens, as canonical reasoning tokens are part of output tokens.
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  return {
    inputTokens: usage.prompt_tokens ?? 0,
    outputTokens: usage.completion_tokens ?? 0,
    ...(cached ? { cacheReadTokens: cached } : {}),
    ...(reasoning ? { reasoningTokens: reasoning } : {}),
    estimated: false,
  };
}
