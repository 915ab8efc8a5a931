import type { Candidate } from "../candidate.js";
import type { RoutingStrategy, StrategyContext } from "./strategy.js";

/** Share of requests sent first to a target other than the fastest, so estimates stay current. */
export const EXPLORATION_RATE = 0.05;

function byLatency(candidates: readonly Candidate[], ctx: StrategyContext): Candidate[] {
  // Unmeasured targets sort first (optimistic start): a new target gets traffic and a measurement.
  const keyed = candidates.map((candidate, index) => ({
    candidate,
    index,
    ms: ctx.latencyMs(candidate) ?? -1,
  }));
  keyed.sort((a, b) => a.ms - b.ms || a.index - b.index);
  return keyed.map((k) => k.candidate);
}

/**
 * Fastest first by the EWMA of observed latency per (provider, model), slower ones as fallbacks.
 * Exploration: a small share of requests goes first to a random other target, so a target that
 * was slow (or skipped while its circuit was open) is measured again and wins back its traffic
 * once it recovers.
 */
export const leastLatencyStrategy: RoutingStrategy = (candidates, ctx) => {
  if (candidates.length < 2) return candidates;
  const ordered = byLatency(candidates, ctx);
  if (ctx.random() < EXPLORATION_RATE) {
    const pick = 1 + Math.floor(ctx.random() * (ordered.length - 1));
    const [explored] = ordered.splice(pick, 1);
    ordered.unshift(explored!);
  }
  return ordered;
};
