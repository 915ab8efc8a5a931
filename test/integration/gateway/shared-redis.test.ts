import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CompiledConsumer, CompiledRoute } from "../../../src/shared/schemas/gateway-config.js";
import { ConsumerLimiter } from "../../../src/gateway/limits/consumer-limiter.js";
import { LimitExceededError } from "../../../src/gateway/limits/limit-exceeded-error.js";
import { MemorySharedState } from "../../../src/gateway/shared-state/memory-shared-state.js";
import { RedisSharedState } from "../../../src/gateway/shared-state/redis-shared-state.js";
import type { SharedState } from "../../../src/gateway/shared-state/shared-state.js";
import type { Reservation } from "../../../src/gateway/limits/request-reservation.js";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { freePort } from "../../support/free-port.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { startRedisServer, type TestRedis } from "../../support/redis-server.js";
import { monitorRedisCommands, type RedisCommandMonitor } from "./redis-command-monitor.js";
import { chatBody, docs, provider, route, secret } from "./traffic-manifests.js";

/** Limits, budgets and the cache shared by gateway replicas through a real redis-server. */

/** What a request holds: `tokens` of prompt and no answer, at no cost. */
function held(tokens: number): Reservation {
  return { promptTokens: tokens, outputTokens: 0, usd: 0 };
}

let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

describe("RedisSharedState behaves like the in-memory state", () => {
  let state: RedisSharedState;
  const errors: string[] = [];

  beforeAll(async () => {
    state = await RedisSharedState.connect({
      url: redis.url,
      keyPrefix: "unit:",
      onError: (op) => errors.push(op),
    });
  });
  afterAll(async () => {
    await state?.close();
  });

  it("runs the token bucket with the same decisions as the in-memory one", async () => {
    // Five per hour: nothing refills during the test, so both backends see the same sequence.
    const spec = { capacity: 5, refillPerMs: 5 / 3_600_000 };
    const steps: Array<[number, "try" | "force"]> = [
      [2, "try"],
      [2, "try"],
      [2, "try"],
      [3, "force"],
      [1, "try"],
      [-4, "force"],
      [1, "try"],
      [9, "try"],
    ];
    const run = async (s: SharedState) => {
      const out = [];
      for (const [amount, mode] of steps) {
        const r = await s.takeTokens("bucket", spec, amount, mode);
        out.push({ allowed: r.allowed, level: Math.round(r.level * 1000) / 1000 });
      }
      return out;
    };
    const fromRedis = await run(state);
    expect(fromRedis).toEqual(await run(new MemorySharedState()));
    expect(fromRedis.map((r) => r.allowed)).toEqual([true, true, false, true, false, true, true, false]);
  });

  it("admits all or nothing, and settles budgets, with the same decisions as the in-memory state", async () => {
    // Three requests and five tokens per hour: nothing refills during the test.
    const requests = { capacity: 3, refillPerMs: 3 / 3_600_000 };
    const tokens = { capacity: 5, refillPerMs: 5 / 3_600_000 };
    const checks = (amount: number, limit: number) => [
      { kind: "bucket" as const, key: "admit-rpm", spec: requests, amount: 1 },
      { kind: "bucket" as const, key: "admit-tpm", spec: tokens, amount },
      { kind: "budget" as const, key: "admit-spend", limit, amount: 0.25, ttlMs: 60_000 },
    ];
    const run = async (s: SharedState) => {
      await s.settleBudget("admit-spend", 0, 0.25, 60_000);
      const out = [];
      for (const [amount, limit] of [
        [2, 1],
        [2, 1],
        [2, 1],
        [1, 0.25],
        [1, 0.75],
        [1, 1],
        [0, 1],
      ] as const) {
        const r = await s.admit(checks(amount, limit));
        out.push(
          r.allowed
            ? "admitted"
            : `refused by ${r.refusedBy} at ${Math.round(r.value * 1000) / 1000} (${r.held} held)`,
        );
      }
      out.push(`spent ${await s.settleBudget("admit-spend", 0.75, 0.5, 60_000)}`);
      out.push((await s.admit(checks(0, 1))).allowed ? "admitted" : "refused");
      return out;
    };
    const fromRedis = await run(state);
    expect(fromRedis).toEqual(await run(new MemorySharedState()));
    expect(fromRedis).toEqual([
      "admitted",
      "admitted",
      "refused by 1 at 1 (0 held)",
      "refused by 2 at 0.25 (0.5 held)",
      "refused by 2 at 0.25 (0.5 held)",
      "admitted",
      "refused by 0 at 0 (0 held)",
      "spent 0.75",
      "refused",
    ]);
  });

  it("reports how long until a refused amount fits", async () => {
    const spec = { capacity: 60, refillPerMs: 60 / 60_000 };
    await state.takeTokens("wait", spec, 60, "try");
    const refused = await state.takeTokens("wait", spec, 30, "try");
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(29_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it("hands out leases up to the maximum and frees expired ones", async () => {
    const a = await state.acquireLease("lease", 2, 300);
    const b = await state.acquireLease("lease", 2, 300);
    expect(a && b).toBeTruthy();
    expect(await state.acquireLease("lease", 2, 300)).toBeUndefined();
    await state.releaseLease("lease", a!);
    expect(await state.acquireLease("lease", 2, 300)).toBeDefined();
    await new Promise((r) => setTimeout(r, 350));
    expect(await state.acquireLease("lease", 2, 300)).toBeDefined();
  });

  it("keeps budget spend and holds in counters that expire", async () => {
    await state.admit([{ kind: "budget", key: "spend", limit: 1, amount: 0.5, ttlMs: 300 }]);
    expect(await state.settleBudget("spend", 0.125, 0.125, 300)).toBe(0.125);
    expect(await state.settleBudget("spend", 0, 0.25, 300)).toBe(0.375);
    await new Promise((r) => setTimeout(r, 350));
    expect(await state.settleBudget("spend", 0, 0, 300)).toBe(0);
    expect(await state.admit([{ kind: "budget", key: "spend", limit: 1, amount: 1, ttlMs: 300 }])).toEqual({
      allowed: true,
    });
  });

  it("stores cache entries with a ttl", async () => {
    await state.cacheSet("entry", '{"a":1}', 200);
    expect(await state.cacheGet("entry")).toBe('{"a":1}');
    await new Promise((r) => setTimeout(r, 250));
    expect(await state.cacheGet("entry")).toBeUndefined();
    expect(errors).toEqual([]);
  });
});

describe("admitting a consumer with requests/min, tokens/min and a budget", () => {
  const chatRoute = { id: "default/chat" } as CompiledRoute;
  let state: RedisSharedState;
  let monitor: RedisCommandMonitor;
  let run = 0;

  beforeAll(async () => {
    state = await RedisSharedState.connect({ url: redis.url, keyPrefix: "admission:" });
    monitor = await monitorRedisCommands(redis.url);
  });
  afterAll(async () => {
    await monitor?.close();
    await state?.close();
  });

  /** A consumer of its own per test, so tests do not share buckets. */
  function capped(limits: CompiledConsumer["limits"], usd = 1): CompiledConsumer {
    return { name: `capped-${++run}`, limits, budget: { usd, period: "day" } };
  }

  async function refusal(promise: Promise<unknown>): Promise<LimitExceededError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LimitExceededError);
    return err as LimitExceededError;
  }

  it("costs one round trip to Redis, whether admitted or refused", async () => {
    const limiter = new ConsumerLimiter(state);
    const consumer = capped({ requestsPerMinute: 2, tokensPerMinute: 1_000 });
    for (let i = 0; i < 2; i++) {
      expect(await monitor.commandsDuring(() => limiter.admit(chatRoute, consumer, held(100)))).toHaveLength(
        1,
      );
    }
    let refused: Promise<unknown> = Promise.resolve();
    expect(
      await monitor.commandsDuring(() => (refused = limiter.admit(chatRoute, consumer, held(100)))),
    ).toHaveLength(1);
    const err = await refusal(refused);
    expect(err.message).toContain(
      `consumer "${consumer.name}" on route default/chat is over its limit of 2 requests per minute`,
    );
    expect(err.retryAfterSeconds).toBe(30);
  });

  it("takes nothing from the other limits when one refuses", async () => {
    const limiter = new ConsumerLimiter(state);
    const consumer = capped({ requestsPerMinute: 3, tokensPerMinute: 100 });
    const first = await limiter.admit(chatRoute, consumer, held(60));
    const err = await refusal(limiter.admit(chatRoute, consumer, held(60)));
    expect(err.message).toContain("over its limit of 100 tokens per minute");
    expect(err.retryAfterSeconds).toBe(12);
    await first.settle(0, 0);
    // Had the refused request used one of the three requests, the third admission would fail.
    await limiter.admit(chatRoute, consumer, held(60));
    await limiter.admit(chatRoute, consumer, held(40));
    expect((await refusal(limiter.admit(chatRoute, consumer, held(0)))).message).toContain(
      "over its limit of 3 requests per minute",
    );
  });

  it("refuses a spent budget in one round trip, naming the budget, without using a request", async () => {
    const limiter = new ConsumerLimiter(state);
    const consumer = capped({ requestsPerMinute: 2, tokensPerMinute: 1_000 }, 0.01);
    await (await limiter.admit(chatRoute, consumer, held(10))).settle(10, 0.011);
    let refused: Promise<unknown> = Promise.resolve();
    expect(
      await monitor.commandsDuring(() => (refused = limiter.admit(chatRoute, consumer, held(10)))),
    ).toHaveLength(1);
    const err = await refusal(refused);
    expect(err.scope).toBe("budget");
    expect(err.message).toContain("budget of $0.0100 per day ($0.0110 used)");
    const end = new Date();
    end.setUTCHours(24, 0, 0, 0);
    expect(err.message).toContain(`resets at ${end.toISOString()}`);
    expect(err.retryAfterSeconds).toBeGreaterThan((end.getTime() - Date.now()) / 1000 - 5);
    // The refusal left the minute's second request unused.
    const relaxed = { ...consumer, budget: { usd: 1, period: "day" as const } };
    await limiter.admit(chatRoute, relaxed, held(10));
  });
});

describe("when Redis goes away", () => {
  it("fails open: requests are allowed, the cache misses, and the failure is reported", async () => {
    const doomed = await startRedisServer();
    const errors: string[] = [];
    const state = await RedisSharedState.connect({ url: doomed.url, onError: (op) => errors.push(op) });
    await doomed.stop();
    const started = performance.now();
    const spec = { capacity: 1, refillPerMs: 1 / 60_000 };
    expect((await state.takeTokens("k", spec, 1, "try")).allowed).toBe(true);
    expect((await state.takeTokens("k", spec, 1, "try")).allowed).toBe(true);
    expect(await state.admit([{ kind: "bucket", key: "k", spec, amount: 1 }])).toEqual({ allowed: true });
    expect(await state.acquireLease("l", 1, 1000)).toBeDefined();
    expect(await state.cacheGet("c")).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(errors).toEqual(expect.arrayContaining(["takeTokens", "admit", "acquireLease", "cacheGet"]));
    await state.close();
  });

  it("refuses to start a gateway whose Redis cannot be reached, without printing the password", async () => {
    const port = await freePort();
    const err = await startTestGateway(
      { "none.yaml": "" },
      { gateway: { redisUrl: `redis://:hunter2-redis-pw@127.0.0.1:${port}` } },
    ).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
    expect(err?.message).not.toContain("hunter2");
  });
});

describe("the state backend", () => {
  it("is named once at start, with what it means for limits, budgets and the cache", async () => {
    const startLines = (gw: TestGateway) =>
      gw.logs
        .map((line) => JSON.parse(line) as { msg: string; stateBackend?: string })
        .filter((l) => l.stateBackend);
    const alone = await startTestGateway({ "none.yaml": "" });
    const shared = await startTestGateway({ "none.yaml": "" }, { gateway: { redisUrl: redis.url } });
    try {
      const [memory] = startLines(alone);
      expect(startLines(alone)).toHaveLength(1);
      expect(memory).toMatchObject({ stateBackend: "memory" });
      expect(memory!.msg).toContain(
        "every limit and budget is in effect multiplied by the number of replicas",
      );
      expect(memory!.msg).toContain("pass --redis-url to share them");
      expect(startLines(shared)).toEqual([
        expect.objectContaining({
          stateBackend: "redis",
          msg: "limits, budgets and the response cache are shared through Redis by every replica using it",
        }),
      ]);
    } finally {
      await alone.close();
      await shared.close();
    }
  });
});

describe("two gateways sharing one Redis", () => {
  const KEY = "sk-shared-consumer-4b1d";
  let upstream: OpenAiFake;
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    upstream = await startOpenAiFake({ flavor: "vllm" });
    const manifests = {
      "all.yaml": docs(
        secret("keys", { shared: `sha256:${createHash("sha256").update(KEY).digest("hex")}` }),
        provider("fake", upstream.baseUrl, [
          { name: "m", pricing: { inputPer1M: 0, outputPer1M: 1_000_000 }, maxOutputTokens: 50 },
        ]),
        provider("limited", upstream.baseUrl, [{ name: "m" }], { limits: { requestsPerMinute: 3 } }),
        route("consumer-limited", {
          targets: [{ provider: "fake", model: "m" }],
          consumers: [
            {
              name: "shared",
              apiKeySecretRef: { name: "keys", key: "shared" },
              limits: { requestsPerMinute: 4 },
            },
          ],
        }),
        route("provider-limited", {
          targets: [{ provider: "limited", model: "m" }],
          retries: { attempts: 0 },
        }),
        route("budgeted", {
          targets: [{ provider: "fake", model: "m" }],
          consumers: [
            {
              name: "shared",
              apiKeySecretRef: { name: "keys", key: "shared" },
              budget: { usd: 5, period: "month" },
            },
          ],
        }),
        route("cached", { targets: [{ provider: "fake", model: "m" }], cache: { ttl: "1m" } }),
      ),
    };
    a = await startTestGateway(manifests, { gateway: { redisUrl: redis.url } });
    b = await startTestGateway(manifests, { gateway: { redisUrl: redis.url } });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await upstream?.close();
  });

  const chat = (gw: TestGateway, model: string, text = "hi", key?: string, maxTokens?: number) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: chatBody(text, { model, max_tokens: maxTokens }),
    });

  it("enforce one consumer limit between them", async () => {
    const statuses = [];
    for (const gw of [a, b, a, b, a, b])
      statuses.push((await chat(gw, "consumer-limited", "hi", KEY)).status);
    // 4 a minute in all, not 4 per replica.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it("enforce one provider limit between them", async () => {
    const statuses = [];
    for (const gw of [a, b, a, b]) statuses.push((await chat(gw, "provider-limited")).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it("share one budget", async () => {
    // At most five output tokens at $1 each: the first request may spend the whole $5, and does.
    expect((await chat(a, "budgeted", "one two three four five six", KEY, 5)).status).toBe(200);
    const refused = await chat(b, "budgeted", "again", KEY);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      "budget of $5.00 per month",
    );
  });

  it("share one response cache", async () => {
    const before = upstream.requests.length;
    expect((await chat(a, "cached", "cache me")).headers.get("x-switchboard-cache")).toBe("miss");
    const hit = await chat(b, "cached", "cache me");
    expect(hit.headers.get("x-switchboard-cache")).toBe("hit");
    expect(
      ((await hit.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message
        .content,
    ).toBe("You said: cache me");
    expect(upstream.requests.length - before).toBe(1);
  });
});
