import type { Usage } from "../../canonical/chat.js";
import type { GeminiUsageMetadata } from "./vertex-wire-types.js";

/**
 * Thinking tokens are billed as output but reported apart from candidatesTokenCount, so they are
 * added to output tokens (as OpenAI counts reasoning tokens in completion_tokens).
 */
export function mapGeminiUsage(usage: GeminiUsageMetadata | undefined): Usage | undefined {
  if (!usage || (usage.promptTokenCount === undefined && usage.candidatesTokenCount === undefined))
    return undefined;
  const cached = usage.cachedContentTokenCount;
  return {
    inputTokens: usage.promptTokenCount ?? 0,
    outputTokens: (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
    ...(cached ? { cacheReadTokens: cached } : {}),
    ...(usage.thoughtsTokenCount !== undefined ? { reasoningTokens: usage.thoughtsTokenCount } : {}),
    estimated: false,
  };
}
