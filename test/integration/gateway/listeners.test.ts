import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { OPENAI_KEY, manifests } from "./routing-support.js";

/**
 * Who can read what: the public port serves the client API and the probes; metrics and
 * /admin/state, which name every route, consumer, model and cost figure, only the admin listener,
 * unless --public-metrics asks for the old behaviour.
 */

const files = (endpoint: string) =>
  manifests(
    [{ name: "a", type: "openai", endpoint }],
    [{ name: "chat", model: "chat", targets: [{ provider: "a", model: "chat" }] }],
  );

let upstream: OpenAiFake;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  upstream = await startOpenAiFake({ apiKey: OPENAI_KEY });
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await upstream?.close();
});

async function start(publicMetrics?: boolean): Promise<TestGateway> {
  const gateway = await startTestGateway(files(upstream.baseUrl), { gateway: { publicMetrics } });
  gateways.push(gateway);
  const chat = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }] }),
  });
  expect(chat.status).toBe(200);
  return gateway;
}

const TOKEN_USAGE = /^gen_ai_client_token_usage_count\{.*gen_ai_request_model="chat".*\} 1$/m;

describe("by default", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await start();
  });

  it("answers /metrics and /admin/state on the public port with a 404 in the gateway's error body", async () => {
    for (const path of ["/metrics", "/admin/state"]) {
      const res = await fetch(`${gateway.url}${path}`);
      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("not_found");
      expect(body.error.message).toBe(`GET ${path} is not an endpoint of this gateway`);
    }
  });

  it("serves the metrics and the state on the admin listener", async () => {
    const metrics = await fetch(`${gateway.adminUrl!}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await metrics.text()).toMatch(TOKEN_USAGE);
    const state = await fetch(`${gateway.adminUrl!}/admin/state`);
    expect(state.status).toBe(200);
    expect(((await state.json()) as { configVersion: string }).configVersion).toBe(
      gateway.store.current!.config.version,
    );
  });

  it("keeps the client API off the admin listener", async () => {
    const res = await fetch(`${gateway.adminUrl!}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      "POST /v1/chat/completions is not an admin endpoint; use GET /admin/state or GET /metrics",
    );
  });

  it("still answers the probes on the public port", async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
  });
});

describe("with publicMetrics", () => {
  it("serves /metrics on the public port too, and /admin/state still only on the admin listener", async () => {
    const gateway = await start(true);
    const metrics = await fetch(`${gateway.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(TOKEN_USAGE);
    expect((await fetch(`${gateway.adminUrl!}/metrics`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/admin/state`)).status).toBe(404);
    expect(gateway.logs.some((line) => line.includes("GET /metrics is also served on the public port"))).toBe(
      true,
    );
  });
});
