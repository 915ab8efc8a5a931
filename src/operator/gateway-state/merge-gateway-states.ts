import type { GatewayState, ModelState } from "../../shared/schemas/gateway-state.js";

type Health = ModelState["health"];
type Circuit = ModelState["circuit"];

/** One provider model as seen across every ready gateway replica. */
export interface MergedModelState {
  health: Health;
  circuit: Circuit;
  consecutiveFailures: number;
  p50Ms?: number;
  p95Ms?: number;
  lastProbeTime?: string;
  lastErrorClass?: string;
}

/** One provider across replicas and models: the view written to LLMProvider.status. */
export interface MergedProviderState extends MergedModelState {
  models: Map<string, MergedModelState>;
}

export interface MergedGatewayState {
  /** How many replicas answered. */
  gateways: number;
  /** Config version served by most replicas (null before any loaded one). */
  configVersion: string | null;
  providers: Map<string, MergedProviderState>;
}

// Worst wins: one replica seeing an upstream fail is enough to report it; unknown (no probe yet)
// never hides what another replica measured.
const HEALTH_RANK: Record<Health, number> = { unknown: 0, healthy: 1, degraded: 2, unhealthy: 3 };
const CIRCUIT_RANK: Record<Circuit, number> = { closed: 0, "half-open": 1, open: 2 };

function worse<T extends string>(rank: Record<T, number>, a: T, b: T): T {
  return rank[b] > rank[a] ? b : a;
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

function later(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

function mergeModel(into: MergedModelState | undefined, model: ModelState): MergedModelState {
  const next: MergedModelState = {
    health: model.health,
    circuit: model.circuit,
    consecutiveFailures: model.consecutiveFailures,
    p50Ms: model.latency.p50Ms,
    p95Ms: model.latency.p95Ms,
    lastProbeTime: model.lastProbeTime,
    lastErrorClass: model.lastErrorClass,
  };
  if (!into) return next;
  return {
    health: worse(HEALTH_RANK, into.health, next.health),
    circuit: worse(CIRCUIT_RANK, into.circuit, next.circuit),
    consecutiveFailures: Math.max(into.consecutiveFailures, next.consecutiveFailures),
    p50Ms: maxDefined(into.p50Ms, next.p50Ms),
    p95Ms: maxDefined(into.p95Ms, next.p95Ms),
    lastProbeTime: later(into.lastProbeTime, next.lastProbeTime),
    lastErrorClass: next.lastErrorClass ?? into.lastErrorClass,
  };
}

/** Folds the per-model states of one provider into the provider-level view. */
function foldProvider(models: Map<string, MergedModelState>): MergedProviderState {
  let folded: MergedModelState | undefined;
  for (const model of models.values()) {
    folded = folded
      ? {
          health: worse(HEALTH_RANK, folded.health, model.health),
          circuit: worse(CIRCUIT_RANK, folded.circuit, model.circuit),
          consecutiveFailures: Math.max(folded.consecutiveFailures, model.consecutiveFailures),
          p50Ms: maxDefined(folded.p50Ms, model.p50Ms),
          p95Ms: maxDefined(folded.p95Ms, model.p95Ms),
          lastProbeTime: later(folded.lastProbeTime, model.lastProbeTime),
          lastErrorClass: folded.lastErrorClass ?? model.lastErrorClass,
        }
      : { ...model };
  }
  return { ...(folded ?? { health: "unknown", circuit: "closed", consecutiveFailures: 0 }), models };
}

/** Merges what every ready replica reported: worst health and most-open circuit win, latency is the max. */
export function mergeGatewayStates(states: readonly GatewayState[]): MergedGatewayState {
  const perProvider = new Map<string, Map<string, MergedModelState>>();
  const versionVotes = new Map<string | null, number>();
  for (const state of states) {
    versionVotes.set(state.configVersion, (versionVotes.get(state.configVersion) ?? 0) + 1);
    for (const provider of state.providers) {
      let models = perProvider.get(provider.providerId);
      if (!models) perProvider.set(provider.providerId, (models = new Map()));
      for (const model of provider.models)
        models.set(model.model, mergeModel(models.get(model.model), model));
    }
  }
  let configVersion: string | null = null;
  let best = 0;
  for (const [version, votes] of versionVotes) {
    if (votes > best) [configVersion, best] = [version, votes];
  }
  const providers = new Map<string, MergedProviderState>();
  for (const [id, models] of perProvider) providers.set(id, foldProvider(models));
  return { gateways: states.length, configVersion, providers };
}
