import type { CompiledModel } from "../../../shared/schemas/gateway-config.js";
import type { RequestNeeds } from "../request-needs.js";
import type { RoutingStrategy } from "./strategy.js";

/**
 * Output tokens assumed when the client sets no max_tokens: one figure for every model, so a
 * model is not ranked dearer just because it may write longer answers.
 */
export const ASSUMED_OUTPUT_TOKENS = 512;

/** Estimated USD cost of the request on a model, or undefined when the model has no pricing. */
export function estimatedCost(model: CompiledModel, needs: RequestNeeds): number | undefined {
  if (!model.pricing) return undefined;
  const output =
    needs.kind === "embedding"
      ? 0
      : (needs.maxOutputTokens ??
        Math.min(ASSUMED_OUTPUT_TOKENS, model.maxOutputTokens ?? ASSUMED_OUTPUT_TOKENS));
  return (needs.inputTokens * model.pricing.inputPer1M + output * model.pricing.outputPer1M) / 1_000_000;
}

/**
 * Cheapest first: model pricing × estimated tokens (prompt estimate, plus max_tokens or the
 * assumed output). Targets without pricing come last; ties keep the priority order.
 */
export const lowestCostStrategy: RoutingStrategy = (candidates, ctx) => {
  if (candidates.length < 2) return candidates;
  const keyed = candidates.map((candidate, index) => ({
    candidate,
    index,
    cost: estimatedCost(candidate.model, ctx.needs) ?? Number.POSITIVE_INFINITY,
  }));
  keyed.sort((a, b) => (a.cost === b.cost ? a.index - b.index : a.cost - b.cost));
  return keyed.map((k) => k.candidate);
};
