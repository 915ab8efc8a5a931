import { describe, expect, it } from "vitest";
import { mergeGatewayStates } from "../../../src/operator/gateway-state/merge-gateway-states.js";
import type { GatewayState, ModelState } from "../../../src/shared/schemas/gateway-state.js";

function model(partial: Partial<ModelState> & { model: string }): ModelState {
  return {
    health: "healthy",
    circuit: "closed",
    consecutiveFailures: 0,
    latency: {},
    requests: 0,
    failures: 0,
    ...partial,
  };
}

function gateway(
  configVersion: string | null,
  models: ModelState[],
  providerId = "team-a/openai",
): GatewayState {
  return { configVersion, generatedAt: "2026-01-01T00:00:00Z", providers: [{ providerId, models }] };
}

describe("mergeGatewayStates", () => {
  it("lets the worst health and the most open circuit win, and takes the max latency", () => {
    const merged = mergeGatewayStates([
      gateway("v1", [
        model({ model: "gpt", latency: { p50Ms: 100, p95Ms: 300 }, lastProbeTime: "2026-01-01T00:00:10Z" }),
        model({ model: "mini", latency: { p50Ms: 50, p95Ms: 90 } }),
      ]),
      gateway("v1", [
        model({
          model: "gpt",
          health: "unhealthy",
          circuit: "open",
          consecutiveFailures: 7,
          latency: { p50Ms: 80, p95Ms: 900 },
          lastErrorClass: "upstream_unavailable",
          lastProbeTime: "2026-01-01T00:00:20Z",
        }),
        model({ model: "mini", circuit: "half-open" }),
      ]),
    ]);
    const provider = merged.providers.get("team-a/openai")!;
    expect(merged.gateways).toBe(2);
    expect(merged.configVersion).toBe("v1");
    expect(provider.models.get("gpt")).toMatchObject({
      health: "unhealthy",
      circuit: "open",
      consecutiveFailures: 7,
      p50Ms: 100,
      p95Ms: 900,
    });
    expect(provider.models.get("mini")).toMatchObject({ health: "healthy", circuit: "half-open", p95Ms: 90 });
    expect(provider).toMatchObject({
      health: "unhealthy",
      circuit: "open",
      consecutiveFailures: 7,
      p95Ms: 900,
      lastProbeTime: "2026-01-01T00:00:20Z",
      lastErrorClass: "upstream_unavailable",
    });
  });

  it("does not let a replica that has not probed yet hide another's measurement", () => {
    const merged = mergeGatewayStates([
      gateway("v1", [model({ model: "gpt", health: "unknown" })]),
      gateway("v1", [model({ model: "gpt" })]),
    ]);
    expect(merged.providers.get("team-a/openai")!.health).toBe("healthy");
  });

  it("reports the config version most replicas serve", () => {
    const merged = mergeGatewayStates([gateway("v2", []), gateway("v1", []), gateway("v2", [])]);
    expect(merged.configVersion).toBe("v2");
    expect(mergeGatewayStates([]).gateways).toBe(0);
  });
});
