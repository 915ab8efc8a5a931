import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GatewayMetrics } from "../../../../src/gateway/metrics.js";
import { LimitExceededError } from "../../../../src/gateway/limits/limit-exceeded-error.js";
import { dispatch, type DispatchDeps } from "../../../../src/gateway/routing/dispatcher.js";
import { RoutePlanner } from "../../../../src/gateway/routing/route-planner.js";
import { TargetStates } from "../../../../src/gateway/resilience/target-states.js";
import type { ProviderAdapter } from "../../../../src/gateway/providers/provider-adapter.js";
import { GatewayError } from "../../../../src/shared/errors.js";
import type { CompiledProvider, CompiledRoute } from "../../../../src/shared/schemas/gateway-config.js";
import {
  CHAT_NEEDS,
  answer,
  model,
  provider,
  route,
  runtime,
  stubAdapter,
  type ChatBehaviour,
} from "./routing-fixtures.js";

/** Per-provider scripted outcomes: each call takes the next entry; "ok" answers. */
type Step = "ok" | GatewayError;

let calls: string[];
let scripts: Record<string, Step[]>;
let metrics: GatewayMetrics;
let states: TargetStates;
let deps: DispatchDeps;
let transitions: string[];

function scripted(name: string): ChatBehaviour {
  return async () => {
    const step = scripts[name]?.shift() ?? "ok";
    if (step === "ok") return answer(`from ${name}`);
    throw step;
  };
}

function setup(providers: CompiledProvider[], r: CompiledRoute) {
  const adapters = new Map<string, ProviderAdapter>(
    providers.map((p) => [p.id, stubAdapter(p, scripted(p.name), calls)]),
  );
  const rt = runtime(providers, [r], adapters);
  states.sync(rt.config);
  return (signal: AbortSignal = new AbortController().signal) =>
    dispatch(deps, rt, r, CHAT_NEEDS, signal, (candidate, ctx) =>
      candidate.adapter.chat({ model: candidate.model.upstreamModel, messages: [] }, ctx),
    );
}

const unavailable = () => new GatewayError("upstream_unavailable", "503 from upstream");
const rateLimited = (seconds?: number) =>
  new GatewayError("rate_limit", "429 from upstream", { retryAfterSeconds: seconds });

async function counter(
  name: string,
): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const metric = await metrics.registry.getSingleMetric(name)!.get();
  return metric.values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error("expected a failure");
}

beforeEach(() => {
  calls = [];
  scripts = {};
  metrics = new GatewayMetrics();
  transitions = [];
  states = new TargetStates({
    clock: () => Date.now(),
    onCircuitTransition: (state, to) => transitions.push(`${state.key} ${to}`),
  });
  deps = { planner: new RoutePlanner({ latencyMs: () => undefined, random: () => 0.5 }), states, metrics };
});

afterEach(() => vi.useRealTimers());

const a = provider("a");
const b = provider("b");
const c = provider("c");

describe("dispatch: retries and fallback", () => {
  it("falls back in priority order on the classes the route names, recording every attempt", async () => {
    scripts = { a: [unavailable()], b: [new GatewayError("timeout", "slow")] };
    const send = setup([a, b, c], route([{ provider: "a" }, { provider: "b" }, { provider: "c" }]));
    const done = await send();
    expect(done.result.content).toBe("from c");
    expect(done.attempts).toEqual([
      { providerId: "default/a", model: "m", errorClass: "upstream_unavailable" },
      { providerId: "default/b", model: "m", errorClass: "timeout" },
      { providerId: "default/c", model: "m" },
    ]);
    expect(await counter("switchboard_failovers_total")).toEqual([
      {
        labels: {
          route: "default/r",
          provider: "default/a",
          model: "m",
          error_class: "upstream_unavailable",
        },
        value: 1,
      },
      { labels: { route: "default/r", provider: "default/b", model: "m", error_class: "timeout" }, value: 1 },
    ]);
  });

  it("never retries or fails over on the client's own mistakes", async () => {
    scripts = { a: [new GatewayError("invalid_request", "bad temperature")] };
    const send = setup(
      [a, b],
      route([{ provider: "a" }, { provider: "b" }], {
        retries: { attempts: 3, backoffMs: 1, maxBackoffMs: 5, respectRetryAfter: true },
      }),
    );
    expect((await failure(send())).message).toBe("bad temperature");
    expect(calls).toEqual(["default/a"]);
  });

  it("does not fall back on a class the route does not name", async () => {
    scripts = { a: [new GatewayError("timeout", "slow")] };
    const r = route([{ provider: "a" }, { provider: "b" }], {
      fallback: { on: ["rate_limit"], maxAttempts: 2 },
    });
    const send = setup([a, b], r);
    expect((await failure(send())).errorClass).toBe("timeout");
    expect(calls).toEqual(["default/a"]);
  });

  it("after context_length_exceeded tries only targets with a larger window", async () => {
    const small = provider("small", { models: [model({ contextWindow: 8000 })] });
    const same = provider("same", { models: [model({ contextWindow: 8000 })] });
    const big = provider("big", { models: [model({ contextWindow: 200_000 })] });
    scripts = { small: [new GatewayError("context_length_exceeded", "too long")] };
    const r = route([{ provider: "small" }, { provider: "same" }, { provider: "big" }], {
      fallback: { on: ["context_length_exceeded"], maxAttempts: 3 },
    });
    const done = await setup([small, same, big], r)();
    expect(done.result.content).toBe("from big");
    expect(calls).toEqual(["default/small", "default/big"]);
  });

  it("bounds upstream calls by retries per target and fallback.maxAttempts targets", async () => {
    scripts = { a: [unavailable(), unavailable()], b: [unavailable(), unavailable()], c: [] };
    const r = route([{ provider: "a" }, { provider: "b" }, { provider: "c" }], {
      fallback: { on: ["upstream_unavailable"], maxAttempts: 2 },
      retries: { attempts: 1, backoffMs: 1, maxBackoffMs: 5, respectRetryAfter: true },
    });
    const err = await failure(setup([a, b, c], r)());
    expect(err.errorClass).toBe("upstream_unavailable");
    expect(calls).toEqual(["default/a", "default/a", "default/b", "default/b"]);
    expect((await counter("switchboard_retries_total")).map((v) => v.value)).toEqual([1, 1]);
  });

  it("honours Retry-After on retries, and falls back at once when it is longer than maxBackoff", async () => {
    vi.useFakeTimers();
    scripts = { a: [rateLimited(2), rateLimited(30)] };
    const r = route([{ provider: "a" }, { provider: "b" }], {
      retries: { attempts: 2, backoffMs: 1, maxBackoffMs: 5000, respectRetryAfter: true },
    });
    const pending = setup([a, b], r)();
    await vi.advanceTimersByTimeAsync(1999);
    expect(calls).toEqual(["default/a"]);
    await vi.advanceTimersByTimeAsync(1);
    // The second 429 asks for 30 s, more than maxBackoff: move on at once instead of waiting.
    const done = await pending;
    expect(done.result.content).toBe("from b");
    expect(calls).toEqual(["default/a", "default/a", "default/b"]);
  });
});

describe("dispatch: circuits and cool-downs", () => {
  const fragile = provider("a", {
    circuitBreaker: { failureThreshold: 2, windowSeconds: 60, openSeconds: 5, halfOpenRequests: 1 },
  });

  it("skips an open circuit without an attempt, then lets one trial through once half-open", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    scripts = { a: [unavailable(), unavailable()] };
    const send = setup([fragile, b], route([{ provider: "a" }, { provider: "b" }]));
    await send();
    await send();
    expect(calls).toEqual(["default/a", "default/b", "default/a", "default/b"]);
    const third = await send();
    expect(third.attempts).toEqual([{ providerId: "default/b", model: "m" }]);
    expect((await counter("switchboard_skipped_targets_total"))[0]).toMatchObject({
      labels: { provider: "default/a", reason: "open" },
      value: 1,
    });

    vi.setSystemTime(1_000_000 + 5000);
    const trial = await send();
    expect(trial.candidate.provider.id).toBe("default/a");
    expect(states.find("default/a/m")!.breaker.state(Date.now())).toBe("closed");
    expect(transitions).toEqual(["default/a/m open", "default/a/m half-open", "default/a/m closed"]);
  });

  it("fails fast with upstream_unavailable naming the open circuits and the soonest half-open time", async () => {
    vi.useFakeTimers({ now: 2_000_000 });
    const fragileB = provider("b", {
      circuitBreaker: { failureThreshold: 1, windowSeconds: 60, openSeconds: 9, halfOpenRequests: 1 },
    });
    scripts = { a: [unavailable(), unavailable()], b: [unavailable()] };
    const send = setup([fragile, fragileB], route([{ provider: "a" }, { provider: "b" }]));
    await failure(send()); // a: 1 failure, b: opens (9 s)
    vi.setSystemTime(2_001_000);
    await failure(send()); // a opens (5 s, until 2 006 000)
    calls.length = 0;
    vi.setSystemTime(2_002_000);
    const err = await failure(send());
    expect(calls).toEqual([]);
    expect(err.errorClass).toBe("upstream_unavailable");
    expect(err.retryAfterSeconds).toBe(4);
    expect(err.message).toBe(
      "route default/r has no target that can take the request now: default/a/m circuit open (for 4 s); default/b/m circuit open (for 7 s); retry after 4 s",
    );
  });

  it("never reaches past the data-residency policy when the allowed targets' circuits are open, and says so", async () => {
    vi.useFakeTimers({ now: 2_500_000 });
    const euOnly = provider("a", {
      dataResidency: { boundary: "customer-cloud", region: "eu-west-1" },
      circuitBreaker: { failureThreshold: 1, windowSeconds: 60, openSeconds: 30, halfOpenRequests: 1 },
    });
    const us = provider("b", { dataResidency: { boundary: "provider-cloud", region: "us-east-1" } });
    scripts = { a: [unavailable()] };
    const send = setup(
      [euOnly, us],
      route([{ provider: "a" }, { provider: "b" }], {
        policy: { dataResidency: { allowedRegions: ["eu-west-1"] } },
      }),
    );
    await failure(send());
    const err = await failure(send());
    expect(calls).toEqual(["default/a"]);
    expect(err.errorClass).toBe("upstream_unavailable");
    expect(err.message).toBe(
      "route default/r has no target that can take the request now: default/a/m circuit open (for 30 s); retry after 30 s; targets outside its data-residency policy (regions eu-west-1) are never used",
    );
  });

  it("sets a rate-limited target aside for its Retry-After, so other requests go straight elsewhere", async () => {
    vi.useFakeTimers({ now: 3_000_000 });
    scripts = { a: [rateLimited(20)] };
    const send = setup([a, b], route([{ provider: "a" }, { provider: "b" }]));
    expect((await send()).attempts.map((x) => x.providerId)).toEqual(["default/a", "default/b"]);
    expect((await send()).attempts.map((x) => x.providerId)).toEqual(["default/b"]);
    expect(states.find("default/a/m")!.breaker.state(Date.now())).toBe("closed");
    vi.setSystemTime(3_000_000 + 20_000);
    expect((await send()).attempts.map((x) => x.providerId)).toEqual(["default/a"]);
  });

  it("answers 429 with the soonest Retry-After when every target is cooling down", async () => {
    vi.useFakeTimers({ now: 4_000_000 });
    scripts = { a: [rateLimited(7)], b: [rateLimited(3)] };
    const send = setup([a, b], route([{ provider: "a" }, { provider: "b" }]));
    expect((await failure(send())).errorClass).toBe("rate_limit");
    const err = await failure(send());
    expect(err.errorClass).toBe("rate_limit");
    expect(err.retryAfterSeconds).toBe(3);
    expect(calls).toEqual(["default/a", "default/b"]);
  });

  it("holds neither a client that went away nor the gateway's own limits against the target", async () => {
    const touchy = provider("a", {
      circuitBreaker: { failureThreshold: 1, windowSeconds: 60, openSeconds: 60, halfOpenRequests: 1 },
    });
    scripts = { a: [new LimitExceededError("provider", "local rpm", 1000, "default/a")] };
    const send = setup([touchy, b], route([{ provider: "a" }, { provider: "b" }]));
    await send();
    const client = new AbortController();
    scripts.a = [new GatewayError("timeout", "cancelled")];
    client.abort();
    await failure(send(client.signal));
    const state = states.find("default/a/m")!;
    expect(state.breaker.state(Date.now())).toBe("closed");
    expect(state.health.failures).toBe(0);
    expect(state.health.requests).toBe(2);
  });

  it("counts a failure after the stream started against the target", async () => {
    const touchy = provider("a", {
      circuitBreaker: { failureThreshold: 1, windowSeconds: 60, openSeconds: 60, halfOpenRequests: 1 },
    });
    const send = setup([touchy], route([{ provider: "a" }]));
    const done = await send();
    done.recordStreamFailure(new GatewayError("upstream_unavailable", "connection reset mid-stream"));
    done.release();
    const state = states.find("default/a/m")!;
    expect(state.breaker.state(Date.now())).toBe("open");
    expect(state.health.lastErrorClass).toBe("upstream_unavailable");
  });
});
