import type { CompiledRoute } from "../../../shared/schemas/gateway-config.js";
import type { Candidate } from "../candidate.js";
import type { RequestNeeds } from "../request-needs.js";

/** What a strategy may consult besides the candidates. */
export interface StrategyContext {
  readonly route: CompiledRoute;
  readonly needs: RequestNeeds;
  /** Latency EWMA of a target in ms; undefined before its first successful attempt. */
  latencyMs(candidate: Candidate): number | undefined;
  /** Uniform in [0, 1); injectable so tests are deterministic. */
  random(): number;
  /** This route's turn counter, incremented on each call (round-robin). */
  nextTurn(): number;
}

/**
 * Orders a route's candidates for one request. Input: the candidates policy and capability
 * admit, in priority order (lower `priority` first, then list order). Output: the order the
 * dispatcher tries them in; every strategy keeps the others as fallbacks (only the weighted one
 * leaves out weight-0 targets, which take no traffic).
 */
export type RoutingStrategy = (
  candidates: readonly Candidate[],
  ctx: StrategyContext,
) => readonly Candidate[];
