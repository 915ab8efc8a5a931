import type { CompiledModel } from "../../shared/schemas/gateway-config.js";

export type Pricing = NonNullable<CompiledModel["pricing"]>;

/** USD for a request's tokens at the model's list prices (per million tokens); undefined when unpriced. */
export function costUsd(
  tokens: { inputTokens: number; outputTokens?: number },
  pricing: Pricing | undefined,
): number | undefined {
  if (!pricing) return undefined;
  return (
    (tokens.inputTokens * pricing.inputPer1M + (tokens.outputTokens ?? 0) * pricing.outputPer1M) / 1_000_000
  );
}
