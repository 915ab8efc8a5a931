import type { RoutingStrategy } from "./strategy.js";

/** Ordered fallback: the priority order itself. */
export const priorityStrategy: RoutingStrategy = (candidates) => candidates;
