import type { RoutingStrategy } from "./strategy.js";

/** Each request starts one target further along the priority order, wrapping around; the rest follow in turn. */
export const roundRobinStrategy: RoutingStrategy = (candidates, ctx) => {
  const n = candidates.length;
  if (n < 2) return candidates;
  const start = ctx.nextTurn() % n;
  if (start === 0) return candidates;
  const ordered = new Array<(typeof candidates)[number]>(n);
  for (let i = 0; i < n; i++) ordered[i] = candidates[(start + i) % n]!;
  return ordered;
};
