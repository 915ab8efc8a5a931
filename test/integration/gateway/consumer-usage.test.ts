import { createHash } from "node:crypto";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { startRedisServer, type TestRedis } from "../../support/redis-server.js";
import { gatewayStateSchema, type ConsumerUsage } from "../../../src/shared/schemas/gateway-state.js";
import { chatBody, docs, provider, route, secret, type AccessLine } from "./traffic-manifests.js";

/**
 * Each route consumer's requests, tokens and spend in its budget period, at /admin/state (what
 * the operator reads): one count across two replicas sharing a real Redis, matching the access log.
 */

const KEY = "sk-usage-report-caller-93fa";
const PRICED = { inputPer1M: 1_000, outputPer1M: 6_000 };

let redis: TestRedis;
let upstream: OpenAiFake;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  upstream = await startOpenAiFake({ flavor: "vllm" });
  redis = await startRedisServer();
  const keyRef = { name: "keys", key: "caller" };
  const files = {
    "all.yaml": docs(
      secret("keys", { caller: `sha256:${createHash("sha256").update(KEY).digest("hex")}` }),
      provider("priced", upstream.baseUrl, [{ name: "m", pricing: PRICED, maxOutputTokens: 24 }]),
      route("reported", {
        targets: [{ provider: "priced", model: "m" }],
        consumers: [{ name: "search", apiKeySecretRef: keyRef, budget: { usd: 5, period: "month" } }],
      }),
    ),
  };
  for (let i = 0; i < 2; i++)
    gateways.push(await startTestGateway(files, { gateway: { redisUrl: redis.url } }));
});

afterAll(async () => {
  for (const gw of gateways) await gw.close();
  await upstream?.close();
  await redis?.stop();
});

async function usage(gw: TestGateway): Promise<ConsumerUsage | undefined> {
  const state = gatewayStateSchema.parse(await (await fetch(`${gw.adminUrl!}/admin/state`)).json());
  expect(state.stateBackend).toBe("redis");
  return state.consumers?.find((c) => c.routeId === "default/reported" && c.consumer === "search");
}

it("reports one count across replicas that matches the access log", async () => {
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`${gateways[i % 2]!.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: chatBody(`hello number ${i}`, { model: "reported" }),
    });
    expect(res.status).toBe(200);
  }
  const lines = gateways
    .flatMap((gw) => gw.logs.map((line) => JSON.parse(line) as AccessLine))
    .filter((l) => l.msg === "request" && l.route === "default/reported" && l.outcome === "ok");
  expect(lines).toHaveLength(5);
  const tokens = lines.reduce((n, l) => n + (l.inputTokens ?? 0) + (l.outputTokens ?? 0), 0);
  const usd = lines.reduce((n, l) => n + (l.costUsd ?? 0), 0);
  const now = new Date();
  const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
  for (const gw of gateways) {
    await vi.waitFor(async () => expect((await usage(gw))?.requests).toBe(5));
    const seen = (await usage(gw))!;
    expect(seen).toMatchObject({ period: "month", periodStart: monthStart, tokens, budgetUsd: 5 });
    expect(seen.usd).toBeCloseTo(usd, 9);
  }
});
