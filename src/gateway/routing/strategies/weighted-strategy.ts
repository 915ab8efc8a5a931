import type { Candidate } from "../candidate.js";
import type { RoutingStrategy } from "./strategy.js";

/**
 * Picks the first target at random in proportion to its weight; the other weighted targets follow
 * in priority order as fallbacks. A weight of 0 takes no traffic at all (as the LLMRoute schema
 * says), not even as a fallback, so a target can be drained; with every weight 0 the route falls
 * back to the priority order rather than refusing everything.
 */
export const weightedStrategy: RoutingStrategy = (candidates, ctx) => {
  let total = 0;
  for (const candidate of candidates) total += candidate.target.weight;
  if (total <= 0) return candidates;
  let point = ctx.random() * total;
  let chosen: Candidate | undefined;
  const rest: Candidate[] = [];
  for (const candidate of candidates) {
    if (candidate.target.weight <= 0) continue;
    point -= candidate.target.weight;
    if (chosen === undefined && point < 0) chosen = candidate;
    else rest.push(candidate);
  }
  // Rounding can leave the point at the very end: the last weighted target is then the pick.
  return chosen ? [chosen, ...rest] : [rest.pop()!, ...rest];
};
