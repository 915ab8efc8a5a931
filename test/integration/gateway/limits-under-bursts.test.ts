import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { startRedisServer, type TestRedis } from "../../support/redis-server.js";
import { chatBody, docs, provider, route, secret, type AccessLine } from "./traffic-manifests.js";

/**
 * Budgets and token limits under bursts: many requests in flight at once, spread over two
 * replicas sharing a real Redis (and, for the in-memory path, one replica alone). What the
 * upstream was asked for is read back from the gateways' access logs.
 */

const KEY = "sk-burst-consumer-7c2e";
const BURST = 60;
/** Long enough that the whole burst is in flight together. */
const UPSTREAM_DELAY_MS = 1_500;

// $1 per 1,000 input tokens and $6 per 1,000 output tokens. "hi" is estimated at 5 prompt
// tokens; the fake upstream counts 8, and answers "You said: hi" in 3 tokens: $0.026 a request.
// At most 24 output tokens: the worst case the gateway must hold for a request is $0.149.
const PRICED = { inputPer1M: 1_000, outputPer1M: 6_000 };
const MAX_OUTPUT = 24;
/** Echoed back in 22 output tokens: answers as long as their prompts, as the issue measured. */
const TWENTY_WORDS = Array.from({ length: 20 }, (_, i) => `word${i}`).join(" ");
const BUDGET_USD = 0.36;
const TOKENS_PER_MINUTE = 600;
/** The fake counts 3 prompt tokens more than the gateway's estimate (its per-request overhead). */
const PROMPT_ESTIMATE_SHORTFALL = 3;

function manifests(upstreamUrl: string): Record<string, string> {
  const keyRef = { name: "keys", key: "burst" };
  return {
    "all.yaml": docs(
      secret("keys", { burst: `sha256:${createHash("sha256").update(KEY).digest("hex")}` }),
      provider("priced", upstreamUrl, [{ name: "m", pricing: PRICED, maxOutputTokens: MAX_OUTPUT }]),
      provider("tpm-limited", upstreamUrl, [{ name: "m", maxOutputTokens: MAX_OUTPUT }], {
        limits: { tokensPerMinute: TOKENS_PER_MINUTE },
      }),
      route("budgeted", {
        targets: [{ provider: "priced", model: "m" }],
        consumers: [{ name: "team", apiKeySecretRef: keyRef, budget: { usd: BUDGET_USD, period: "day" } }],
      }),
      route("budgeted-streams", {
        targets: [{ provider: "priced", model: "m" }],
        consumers: [{ name: "team", apiKeySecretRef: keyRef, budget: { usd: BUDGET_USD, period: "day" } }],
      }),
      route("consumer-tpm", {
        targets: [{ provider: "priced", model: "m" }],
        consumers: [
          { name: "team", apiKeySecretRef: keyRef, limits: { tokensPerMinute: TOKENS_PER_MINUTE } },
        ],
      }),
      route("provider-tpm", { targets: [{ provider: "tpm-limited", model: "m" }], retries: { attempts: 0 } }),
    ),
  };
}

describe.each([
  { setup: "two replicas sharing Redis", replicas: 2, redis: true },
  { setup: "one replica without Redis", replicas: 1, redis: false },
])(`a burst of ${BURST} requests on $setup`, ({ replicas, redis: withRedis }) => {
  let redis: TestRedis | undefined;
  let upstream: OpenAiFake;
  let gateways: TestGateway[] = [];

  beforeAll(async () => {
    upstream = await startOpenAiFake({ flavor: "vllm" });
    redis = withRedis ? await startRedisServer() : undefined;
    gateways = [];
    for (let i = 0; i < replicas; i++) {
      gateways.push(
        await startTestGateway(manifests(upstream.baseUrl), { gateway: { redisUrl: redis?.url } }),
      );
    }
  });

  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    await upstream?.close();
    await redis?.stop();
  });

  /** Fires `count` requests at once, alternating replicas; resolves with each status and body. */
  async function burst(model: string, count: number, extra: Record<string, unknown> = {}, text = "hi") {
    upstream.faults.length = 0;
    upstream.faults.push(
      ...Array.from({ length: count }, () => ({ kind: "delay" as const, ms: UPSTREAM_DELAY_MS })),
    );
    const responses = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        fetch(`${gateways[i % gateways.length]!.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
          body: chatBody(text, { model, ...extra }),
        }).then(async (res) => ({ status: res.status, body: await res.text() })),
      ),
    );
    upstream.faults.length = 0;
    return responses;
  }

  /**
   * The access-log lines of a route's answered requests, from every replica, once there are as
   * many as 200s (a stream's line is written just after its last byte).
   */
  async function answered(model: string, results: Array<{ status: number }>): Promise<AccessLine[]> {
    const lines = () =>
      gateways
        .flatMap((gw) => gw.logs.map((line) => JSON.parse(line) as AccessLine))
        .filter((l) => l.msg === "request" && l.route === `default/${model}` && l.outcome === "ok");
    const ok = results.filter((r) => r.status === 200).length;
    await vi.waitFor(() => expect(lines().length).toBeGreaterThanOrEqual(ok));
    return lines();
  }

  const sum = (lines: AccessLine[], of: (l: AccessLine) => number) => lines.reduce((n, l) => n + of(l), 0);

  it("keeps a consumer's spend within its budget", async () => {
    const results = await burst("budgeted", BURST);
    const ok = await answered("budgeted", results);
    const spent = sum(ok, (l) => l.costUsd ?? 0);
    expect(ok.length).toBe(results.filter((r) => r.status === 200).length);
    expect(ok.length).toBeGreaterThan(0);
    // The documented bound: the budget, plus what the prompt estimate fell short for requests in flight.
    expect(spent).toBeLessThanOrEqual(
      BUDGET_USD + ok.length * PROMPT_ESTIMATE_SHORTFALL * (PRICED.inputPer1M / 1e6),
    );
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBe(BURST - ok.length);
    expect(refused[0]!.body).toContain('consumer \\"team\\" on route default/budgeted');
    // Reservations were settled to what the answers cost: the budget left admits the next request.
    const next = await burst("budgeted", 1);
    expect(next[0]!.status).toBe(200);
  });

  it("keeps a consumer's streams within its budget, none cut short", async () => {
    const results = await burst("budgeted-streams", BURST, { stream: true });
    const ok = await answered("budgeted-streams", results);
    const spent = sum(ok, (l) => l.costUsd ?? 0);
    expect(ok.length).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(
      BUDGET_USD + ok.length * PROMPT_ESTIMATE_SHORTFALL * (PRICED.inputPer1M / 1e6),
    );
    const streamed = results.filter((r) => r.status === 200);
    expect(streamed).toHaveLength(ok.length);
    for (const r of streamed) expect(r.body).toContain("[DONE]");
    expect(results.filter((r) => r.status === 429)).toHaveLength(BURST - ok.length);
  });

  it.each([
    { whose: "a consumer's", model: "consumer-tpm" },
    { whose: "a provider model's", model: "provider-tpm" },
  ])("keeps $whose tokens within its tokens per minute", async ({ model }) => {
    const results = await burst(model, BURST, {}, TWENTY_WORDS);
    const ok = await answered(model, results);
    const tokens = sum(ok, (l) => (l.inputTokens ?? 0) + (l.outputTokens ?? 0));
    expect(ok.length).toBeGreaterThan(0);
    expect(tokens).toBeLessThanOrEqual(TOKENS_PER_MINUTE + ok.length * PROMPT_ESTIMATE_SHORTFALL);
    expect(results.filter((r) => r.status === 429)).toHaveLength(BURST - ok.length);
  });
});
