import type { Usage } from "../../canonical/chat.js";
import type { AnthropicUsage } from "./anthropic-wire-types.js";

/**
 * Anthropic counts cached input apart from `input_tokens`; canonical inputTokens is all input
 * (as OpenAI's prompt_tokens), with the cached parts broken out.
 */
export function mapAnthropicUsage(usage: AnthropicUsage | null | undefined): Usage | undefined {
  if (!usage || (usage.input_tokens == null && usage.output_tokens == null)) return undefined;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: (usage.input_tokens ?? 0) + cacheRead + cacheWrite,
    outputTokens: usage.output_tokens ?? 0,
    ...(cacheRead > 0 ? { cacheReadTokens: cacheRead } : {}),
    ...(cacheWrite > 0 ? { cacheWriteTokens: cacheWrite } : {}),
    estimated: false,
  };
}
