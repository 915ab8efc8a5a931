import type { TokenUsage } from "@aws-sdk/client-bedrock-runtime";
import type { Usage } from "../../canonical/chat.js";

/**
 * Bedrock counts cache reads and writes apart from `inputTokens`; the canonical input count
 * (like OpenAI's prompt_tokens) includes them, with the cached share reported alongside.
 */
export function mapBedrockUsage(usage: TokenUsage | undefined): Usage | undefined {
  if (!usage || (usage.inputTokens === undefined && usage.outputTokens === undefined)) return undefined;
  const cacheRead = usage.cacheReadInputTokens;
  const cacheWrite = usage.cacheWriteInputTokens;
  return {
    inputTokens: (usage.inputTokens ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0),
    outputTokens: usage.outputTokens ?? 0,
    ...(cacheRead !== undefined ? { cacheReadTokens: cacheRead } : {}),
    ...(cacheWrite !== undefined ? { cacheWriteTokens: cacheWrite } : {}),
    estimated: false,
  };
}
