import { GatewayError } from "../../shared/errors.js";
import type { CompiledRoute } from "../../shared/schemas/gateway-config.js";
import type { GatewayRuntime } from "../config/gateway-runtime.js";
import { targetKey } from "../resilience/target-states.js";
import type { Candidate } from "./candidate.js";
import { filterByCapability } from "./capability-filter.js";
import type { RequestNeeds } from "./request-needs.js";
import { describePolicy, residencyAllows } from "../../shared/residency-policy.js";
import { leastLatencyStrategy } from "./strategies/least-latency-strategy.js";
import { lowestCostStrategy } from "./strategies/lowest-cost-strategy.js";
import { priorityStrategy } from "./strategies/priority-strategy.js";
import { roundRobinStrategy } from "./strategies/round-robin-strategy.js";
import type { RoutingStrategy, StrategyContext } from "./strategies/strategy.js";
import { weightedStrategy } from "./strategies/weighted-strategy.js";

const STRATEGIES: Record<CompiledRoute["strategy"], RoutingStrategy> = {
  priority: priorityStrategy,
  weighted: weightedStrategy,
  "round-robin": roundRobinStrategy,
  "least-latency": leastLatencyStrategy,
  "lowest-cost": lowestCostStrategy,
};

/** The route's targets the data-residency policy admits, in priority order; fixed per snapshot. */
export function allowedCandidates(runtime: GatewayRuntime, route: CompiledRoute): Candidate[] {
  const candidates: Candidate[] = [];
  const ordered = route.targets
    .map((target, index) => ({ target, index }))
    .sort((a, b) => a.target.priority - b.target.priority || a.index - b.index);
  for (const { target } of ordered) {
    const provider = runtime.providers.get(target.providerId);
    const model = runtime.models.get(targetKey(target.providerId, target.model));
    const adapter = runtime.adapters.get(target.providerId);
    if (!provider || !model || !adapter) continue;
    if (!residencyAllows(route, provider)) continue;
    candidates.push({ provider, model, adapter, target, key: targetKey(provider.id, model.name) });
  }
  return candidates;
}

export interface RoutePlannerOptions {
  /** Latency EWMA (ms) of a target key, undefined before any sample. */
  latencyMs(key: string): number | undefined;
  random?: () => number;
}

/**
 * Turns a route and a request into the ordered list of targets to try: data-residency policy
 * (every target, fallbacks included) → capability (context window, tools, dimensions) →
 * strategy. Circuit state is left to the dispatcher, which must check it right before each
 * attempt anyway to take half-open trial slots.
 */
export class RoutePlanner {
  private readonly allowed = new WeakMap<GatewayRuntime, Map<string, Candidate[]>>();
  private readonly turns = new Map<string, number>();
  private readonly random: () => number;

  constructor(private readonly options: RoutePlannerOptions) {
    this.random = options.random ?? Math.random;
  }

  plan(runtime: GatewayRuntime, route: CompiledRoute, needs: RequestNeeds): readonly Candidate[] {
    let byRoute = this.allowed.get(runtime);
    if (!byRoute) {
      byRoute = new Map();
      this.allowed.set(runtime, byRoute);
    }
    let candidates = byRoute.get(route.id);
    if (!candidates) {
      candidates = allowedCandidates(runtime, route);
      byRoute.set(route.id, candidates);
    }
    if (candidates.length === 0) {
      const policy = describePolicy(route);
      throw new GatewayError(
        "policy_violation",
        policy
          ? `route ${route.id} has no target allowed by its data-residency policy (${policy}); the request was not sent anywhere`
          : `route ${route.id} has no usable target`,
      );
    }
    const fitting = filterByCapability(route, candidates, needs);
    const ctx: StrategyContext = {
      route,
      needs,
      latencyMs: (candidate) => this.options.latencyMs(candidate.key),
      random: this.random,
      nextTurn: () => {
        const turn = this.turns.get(route.id) ?? 0;
        this.turns.set(route.id, turn + 1);
        return turn;
      },
    };
    return STRATEGIES[route.strategy](fitting, ctx);
  }
}
