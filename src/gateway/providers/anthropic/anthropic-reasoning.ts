import type { ChatRequest, ReasoningEffort, ReasoningPart } from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import type { AnthropicContentBlockParam } from "./anthropic-wire-types.js";

/** Signatures Claude issues verify on every platform that serves Claude (Anthropic, Vertex, Bedrock). */
export const CLAUDE_SIGNATURE_ORIGIN = "anthropic";

/** Thinking budgets for an effort level; 1024 is the smallest budget Claude takes. */
const EFFORT_BUDGET: Record<ReasoningEffort, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 24576,
};
const MIN_BUDGET = 1024;

/**
 * The `thinking` parameter for a canonical reasoning request. An effort becomes a budget, kept
 * under max_tokens (which thinking counts toward) as the API requires.
 */
export function anthropicThinking(
  reasoning: ChatRequest["reasoning"],
  maxTokens: number,
): Record<string, unknown> | undefined {
  if (!reasoning) return undefined;
  if (!reasoning.enabled) return { type: "disabled" };
  if (reasoning.budgetTokens === undefined && reasoning.effort === undefined) return { type: "adaptive" };
  const wanted = reasoning.budgetTokens ?? EFFORT_BUDGET[reasoning.effort!];
  const budget = reasoning.budgetTokens ?? Math.min(wanted, maxTokens - 1);
  if (budget < MIN_BUDGET || budget >= maxTokens) {
    throw new GatewayError(
      "invalid_request",
      `Claude needs a thinking budget of at least ${MIN_BUDGET} tokens below max_tokens (${maxTokens}); raise max_tokens or lower the budget`,
      { param: "max_tokens" },
    );
  }
  return { type: "enabled", budget_tokens: budget };
}

/** Claude's own thinking blocks from history; reasoning from other models is left out. */
export function anthropicThinkingBlocks(
  parts: readonly ReasoningPart[] | undefined,
): AnthropicContentBlockParam[] {
  return (parts ?? []).flatMap((part): AnthropicContentBlockParam[] => {
    if (part.type === "redacted")
      return part.data.origin === CLAUDE_SIGNATURE_ORIGIN
        ? [{ type: "redacted_thinking", data: part.data.value }]
        : [];
    return part.signature?.origin === CLAUDE_SIGNATURE_ORIGIN
      ? [{ type: "thinking", thinking: part.text, signature: part.signature.value }]
      : [];
  });
}

/** A response's thinking or redacted_thinking block as a canonical part; undefined for other blocks. */
export function reasoningPartOf(block: { type: string; [key: string]: unknown }): ReasoningPart | undefined {
  if (block.type === "thinking") {
    const signature =
      typeof block.signature === "string" && block.signature !== "" ? block.signature : undefined;
    return {
      type: "thinking",
      text: typeof block.thinking === "string" ? block.thinking : "",
      ...(signature ? { signature: { origin: CLAUDE_SIGNATURE_ORIGIN, value: signature } } : {}),
    };
  }
  if (block.type === "redacted_thinking" && typeof block.data === "string")
    return { type: "redacted", data: { origin: CLAUDE_SIGNATURE_ORIGIN, value: block.data } };
  return undefined;
}
