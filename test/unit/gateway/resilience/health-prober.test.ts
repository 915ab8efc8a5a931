import { afterEach, describe, expect, it, vi } from "vitest";
import { GatewayError } from "../../../../src/shared/errors.js";
import { HealthProber } from "../../../../src/gateway/resilience/health-prober.js";
import { TargetStates } from "../../../../src/gateway/resilience/target-states.js";
import type { ProviderAdapter } from "../../../../src/gateway/providers/provider-adapter.js";
import { answer, model, provider, runtime } from "../routing/routing-fixtures.js";

function probingAdapter(
  p: ReturnType<typeof provider>,
  log: string[],
  fail: { now: boolean },
): ProviderAdapter {
  const outcome = async () => {
    if (fail.now) throw new GatewayError("upstream_unavailable", "down");
  };
  return {
    provider: p,
    probe: async () => {
      log.push(`probe ${p.id}`);
      await outcome();
    },
    chat: async (request) => {
      log.push(`chat ${request.model} max=${request.maxTokens}`);
      await outcome();
      return answer("pong");
    },
    embed: async (request) => {
      log.push(`embed ${request.model}`);
      await outcome();
      return { model: request.model, vectors: [[0]] };
    },
    chatStream: () => Promise.reject(new Error("not used")),
  };
}

describe("HealthProber", () => {
  afterEach(() => vi.useRealTimers());

  it("probes on the provider's interval, records results per model, and keeps schedules across unchanged snapshots", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const states = new TargetStates({ clock: () => Date.now() });
    const prober = new HealthProber(states, () => 0);
    const log: string[] = [];
    const fail = { now: false };
    const p = provider("a", {
      healthCheck: { intervalMs: 10_000, timeoutMs: 500, probe: "models" },
      models: [model({ name: "x" }), model({ name: "y" })],
    });
    const rt = runtime([p], [], new Map([[p.id, probingAdapter(p, log, fail)]]));
    states.sync(rt.config);
    prober.sync(rt);
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toEqual(["probe default/a"]);
    const x = states.get(p, p.models[0]!);
    const y = states.get(p, p.models[1]!);
    expect(states.healthOf(x)).toBe("healthy");
    expect(y.health.lastProbeTime).toBe(1_000_000);

    fail.now = true;
    // A new snapshot with the same provider does not restart (or reset) its schedule.
    const rt2 = runtime([p], [], new Map([[p.id, probingAdapter(p, log, fail)]]), "v2");
    states.sync(rt2.config);
    prober.sync(rt2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(log).toEqual(["probe default/a", "probe default/a"]);
    expect(states.healthOf(x)).toBe("degraded");
    await vi.advanceTimersByTimeAsync(20_000);
    expect(x.health.consecutiveFailures).toBe(3);
    expect(states.healthOf(y)).toBe("unhealthy");

    prober.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(log).toHaveLength(4);
  });

  it("completion probes send each model a one-token request (one-word embedding for embedding models); none sends nothing", async () => {
    vi.useFakeTimers({ now: 0 });
    const states = new TargetStates({ clock: () => Date.now() });
    const prober = new HealthProber(states, () => 0);
    const log: string[] = [];
    const p = provider("c", {
      healthCheck: { intervalMs: 60_000, timeoutMs: 500, probe: "completion" },
      models: [
        model({ name: "chat", upstreamModel: "gpt-x" }),
        model({ name: "emb", kind: "embedding", upstreamModel: "embed-x" }),
      ],
    });
    const quiet = provider("q", { healthCheck: { intervalMs: 1000, timeoutMs: 500, probe: "none" } });
    const rt = runtime(
      [p, quiet],
      [],
      new Map([
        [p.id, probingAdapter(p, log, { now: false })],
        [quiet.id, probingAdapter(quiet, log, { now: false })],
      ]),
    );
    prober.sync(rt);
    await vi.advanceTimersByTimeAsync(5000);
    expect(log).toEqual(["chat gpt-x max=1", "embed embed-x"]);
    prober.stop();
  });

  it("fails a probe that exceeds its timeout", async () => {
    const states = new TargetStates();
    const prober = new HealthProber(states, () => 0);
    const p = provider("slow", { healthCheck: { intervalMs: 60_000, timeoutMs: 50, probe: "models" } });
    const hanging: ProviderAdapter = {
      provider: p,
      probe: (ctx) =>
        new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))),
      chat: () => Promise.reject(new Error("not used")),
      chatStream: () => Promise.reject(new Error("not used")),
      embed: () => Promise.reject(new Error("not used")),
    };
    prober.sync(runtime([p], [], new Map([[p.id, hanging]])));
    await prober.probe(p.id);
    prober.stop();
    const state = states.get(p, p.models[0]!);
    expect(state.health.lastErrorClass).toBe("timeout");
    expect(state.health.consecutiveFailures).toBeGreaterThanOrEqual(1);
  });
});
