import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { startRedisServer, type TestRedis } from "../../support/redis-server.js";
import { chatBody, docs, provider, route, secret } from "./traffic-manifests.js";

/**
 * A team's budget and limits (spec.consumers[].team) hold once across every route that names the
 * team: a burst that alternates two routes and two replicas sharing a real Redis cannot spend more
 * than the one cap. Spend is read back from the replicas' access logs.
 */

const KEY = "sk-teamwide-caller-51d0";
const BURST = 40;
/** Long enough that the whole burst is in flight together. */
const UPSTREAM_DELAY_MS = 1_500;
// As in limits-under-bursts: "hi" costs $0.026 a request, and holds $0.149 until it settles.
const PRICED = { inputPer1M: 1_000, outputPer1M: 6_000 };
const MAX_OUTPUT = 24;
/** Some 35 requests at $0.026; per-route budgets would let each route spend it all. */
const TEAM_BUDGET_USD = 1;
const TEAM_RPM = 12;
/** The fake counts 3 prompt tokens more than the gateway's estimate (its per-request overhead). */
const PROMPT_ESTIMATE_SHORTFALL = 3;

interface AccessLine {
  msg: string;
  route?: string;
  outcome?: string;
  costUsd?: number;
}

function manifests(upstreamUrl: string): Record<string, string> {
  const keyRef = { name: "keys", key: "caller" };
  const caller = (team: object) => [{ name: "search", apiKeySecretRef: keyRef, team }];
  return {
    "all.yaml": docs(
      secret("keys", { caller: `sha256:${createHash("sha256").update(KEY).digest("hex")}` }),
      provider("priced", upstreamUrl, [
        { name: "m", pricing: PRICED, maxOutputTokens: MAX_OUTPUT },
        { name: "n", pricing: PRICED, maxOutputTokens: MAX_OUTPUT },
      ]),
      // The team's budget is written once; the other route names the team alone.
      route("chat-a", {
        targets: [{ provider: "priced", model: "m" }],
        consumers: caller({ name: "ranking", budget: { usd: TEAM_BUDGET_USD, period: "day" } }),
      }),
      route("chat-b", {
        targets: [{ provider: "priced", model: "n" }],
        consumers: caller({ name: "ranking" }),
      }),
      route("rpm-a", {
        targets: [{ provider: "priced", model: "m" }],
        consumers: caller({ name: "indexing", limits: { requestsPerMinute: TEAM_RPM } }),
      }),
      route("rpm-b", {
        targets: [{ provider: "priced", model: "n" }],
        consumers: caller({ name: "indexing", limits: { requestsPerMinute: TEAM_RPM } }),
      }),
    ),
  };
}

describe("a team on two routes through two replicas sharing Redis", () => {
  let redis: TestRedis;
  let upstream: OpenAiFake;
  const gateways: TestGateway[] = [];

  beforeAll(async () => {
    upstream = await startOpenAiFake({ flavor: "vllm" });
    redis = await startRedisServer();
    for (let i = 0; i < 2; i++)
      gateways.push(
        await startTestGateway(manifests(upstream.baseUrl), { gateway: { redisUrl: redis.url } }),
      );
  });

  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    await upstream?.close();
    await redis?.stop();
  });

  /** Fires `count` requests at once, alternating the routes and the replicas. */
  async function burst(models: [string, string], count: number, delayMs = UPSTREAM_DELAY_MS) {
    upstream.faults.length = 0;
    if (delayMs > 0)
      upstream.faults.push(...Array.from({ length: count }, () => ({ kind: "delay" as const, ms: delayMs })));
    const responses = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        fetch(`${gateways[Math.floor(i / 2) % 2]!.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
          body: chatBody("hi", { model: models[i % 2] }),
        }).then(async (res) => ({ status: res.status, model: models[i % 2]!, body: await res.text() })),
      ),
    );
    upstream.faults.length = 0;
    return responses;
  }

  async function answered(models: string[], ok: number): Promise<AccessLine[]> {
    const routes = new Set(models.map((m) => `default/${m}`));
    const lines = () =>
      gateways
        .flatMap((gw) => gw.logs.map((line) => JSON.parse(line) as AccessLine))
        .filter((l) => l.msg === "request" && routes.has(l.route ?? "") && l.outcome === "ok");
    await vi.waitFor(() => expect(lines().length).toBeGreaterThanOrEqual(ok));
    return lines();
  }

  it("spends no more than the team's one budget across both routes", async () => {
    // chat-b first, alone, so both routes are served; then bursts on both until nothing fits.
    expect((await burst(["chat-b", "chat-b"], 1))[0]!.status).toBe(200);
    const results: Array<{ status: number; body: string }> = [];
    for (let wave = 0; wave < 40; wave++) {
      const responses = await burst(["chat-a", "chat-b"], BURST, 0);
      results.push(...responses);
      if (responses.every((r) => r.status === 429 && !r.body.includes("requests in flight hold"))) break;
    }
    const ok = results.filter((r) => r.status === 200).length + 1;
    const lines = await answered(["chat-a", "chat-b"], ok);
    expect(lines).toHaveLength(ok);
    const spent = lines.reduce((n, l) => n + (l.costUsd ?? 0), 0);
    expect(spent).toBeLessThanOrEqual(
      TEAM_BUDGET_USD + lines.length * PROMPT_ESTIMATE_SHORTFALL * (PRICED.inputPer1M / 1e6),
    );
    // The cap was reached: what is left is less than one request's worst case ($0.149).
    expect(spent).toBeGreaterThan(TEAM_BUDGET_USD - 0.15);
    const last = results.at(-1)!;
    expect(last.status).toBe(429);
    expect(last.body).toContain('team \\"ranking\\" of namespace default');
  });

  it("admits exactly the team's requests per minute across both routes", async () => {
    const results = await burst(["rpm-a", "rpm-b"], 30);
    expect(results.filter((r) => r.status === 200)).toHaveLength(TEAM_RPM);
    expect(results.filter((r) => r.status === 429)).toHaveLength(30 - TEAM_RPM);
  });

  it("shows the team's spend, one count for both routes, on /metrics", async () => {
    const spent = async (gw: TestGateway) => {
      const text = await (await fetch(`${gw.adminUrl!}/metrics`)).text();
      const line = /^switchboard_team_budget_spent_usd\{team="default\/ranking",period="day"\} (\S+)$/m.exec(
        text,
      );
      return Number(line?.[1]);
    };
    const lines = await answered(["chat-a", "chat-b"], 1);
    const total = lines.reduce((n, l) => n + (l.costUsd ?? 0), 0);
    // Each replica shows the count as of its last settlement: the later one has all of it.
    expect(Math.max(...(await Promise.all(gateways.map(spent))))).toBeCloseTo(total, 6);
  });
});
