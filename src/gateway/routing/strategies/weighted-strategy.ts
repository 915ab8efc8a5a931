import type { RoutingStrategy } from "./strategy.js";

/**
 * Picks the first target at random in proportion to its weight; the others follow in priority
 * order as fallbacks. A weight of 0 never takes first-choice traffic but can still serve as a
 * fallback; with all weights 0 this is the priority order.
 */
export const weightedStrategy: RoutingStrategy = (candidates, ctx) => {
  let total = 0;
  for (const candidate of candidates) total += candidate.target.weight;
  if (candidates.length < 2 || total <= 0) return candidates;
  let point = ctx.random() * total;
  let chosen = candidates.length - 1;
  for (let i = 0; i < candidates.length; i++) {
    point -= candidates[i]!.target.weight;
    if (point < 0) {
      chosen = i;
      break;
    }
  }
  if (chosen === 0) return candidates;
  const ordered = [candidates[chosen]!];
  for (let i = 0; i < candidates.length; i++) if (i !== chosen) ordered.push(candidates[i]!);
  return ordered;
};
