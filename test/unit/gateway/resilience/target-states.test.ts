import { describe, expect, it } from "vitest";
import { TargetStates } from "../../../../src/gateway/resilience/target-states.js";
import { buildGatewayState } from "../../../../src/gateway/resilience/gateway-state-report.js";
import { gatewayStateSchema } from "../../../../src/shared/schemas/gateway-state.js";
import { model, provider } from "../routing/routing-fixtures.js";

function openCircuit(states: TargetStates, p: ReturnType<typeof provider>) {
  const state = states.get(p, p.models[0]!);
  for (let i = 0; i < p.circuitBreaker.failureThreshold; i++) {
    const admission = state.breaker.tryAcquire(states.clock());
    if (!admission.admitted) throw new Error("refused");
    states.recordError(state, admission.permit, "outage", "upstream_unavailable");
  }
  return state;
}

describe("TargetStates across config snapshots", () => {
  const now = 1_700_000_000_000;

  it("keeps the state of unchanged targets, applies new breaker settings, resets changed upstreams, drops removed ones", () => {
    const states = new TargetStates({ clock: () => now });
    const a = provider("a");
    const b = provider("b");
    const c = provider("c");
    states.sync({ version: "v1", providers: [a, b, c], routes: [] });
    openCircuit(states, a);
    openCircuit(states, b);
    openCircuit(states, c);

    const a2 = { ...a, circuitBreaker: { ...a.circuitBreaker, openSeconds: 1 } };
    const b2 = { ...b, endpoint: "http://elsewhere.invalid" };
    states.sync({ version: "v2", providers: [a2, b2], routes: [] });

    const aState = states.get(a2, a2.models[0]!);
    expect(aState.breaker.state(now)).toBe("open");
    expect(aState.health.failures).toBe(3);
    expect(states.get(b2, b2.models[0]!).breaker.state(now)).toBe("closed");
    expect(states.get(b2, b2.models[0]!).health.requests).toBe(0);
    expect(states.find("default/c/m")).toBeUndefined();
  });

  it("reports every provider model of the snapshot in the GatewayState shape", () => {
    const clock = { now };
    const states = new TargetStates({ clock: () => clock.now });
    const a = provider("a", {
      models: [model({ name: "chat" }), model({ name: "embed", kind: "embedding" })],
    });
    const config = { version: "v7", providers: [a], routes: [] };
    states.sync(config);
    const chat = states.get(a, a.models[0]!);
    const admission = chat.breaker.tryAcquire(now);
    if (!admission.admitted) throw new Error("refused");
    states.recordSuccess(chat, admission.permit, 120);
    chat.health.recordProbe(undefined, now);

    const report = gatewayStateSchema.parse(buildGatewayState(config, states));
    expect(report.configVersion).toBe("v7");
    expect(report.providers).toHaveLength(1);
    expect(report.providers[0]!.models).toEqual([
      {
        model: "chat",
        health: "healthy",
        circuit: "closed",
        circuitSince: new Date(now).toISOString(),
        consecutiveFailures: 0,
        latency: { ewmaMs: 120, p50Ms: 120, p95Ms: 120 },
        lastProbeTime: new Date(now).toISOString(),
        requests: 1,
        failures: 0,
      },
      {
        model: "embed",
        health: "unknown",
        circuit: "closed",
        circuitSince: new Date(now).toISOString(),
        consecutiveFailures: 0,
        latency: {},
        requests: 0,
        failures: 0,
      },
    ]);
    expect(buildGatewayState(undefined, states)).toMatchObject({ configVersion: null, providers: [] });
  });
});
