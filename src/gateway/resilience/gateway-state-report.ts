import type { GatewayConfig } from "../../shared/schemas/gateway-config.js";
import type { GatewayState, ModelState } from "../../shared/schemas/gateway-state.js";
import type { TargetStates } from "./target-states.js";

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function round(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms * 10) / 10;
}

/** What `GET /admin/state` reports: every provider model of the snapshot in force, with its live state. */
export function buildGatewayState(config: GatewayConfig | undefined, states: TargetStates): GatewayState {
  const now = states.clock();
  return {
    configVersion: config?.version ?? null,
    generatedAt: new Date(now).toISOString(),
    providers: (config?.providers ?? []).map((provider) => ({
      providerId: provider.id,
      models: provider.models.map((model): ModelState => {
        const state = states.get(provider, model);
        const { health, breaker } = state;
        return {
          model: model.name,
          health: states.healthOf(state, now),
          circuit: breaker.state(now),
          circuitSince: iso(breaker.since(now)),
          consecutiveFailures: health.consecutiveFailures,
          latency: {
            ewmaMs: round(health.ewmaMs),
            p50Ms: round(health.latency.percentile(50)),
            p95Ms: round(health.latency.percentile(95)),
          },
          lastProbeTime: iso(health.lastProbeTime),
          lastErrorClass: health.lastErrorClass,
          requests: health.requests,
          failures: health.failures,
        };
      }),
    })),
  };
}
