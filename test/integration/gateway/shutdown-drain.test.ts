import { afterAll, beforeAll, expect, it } from "vitest";
import { request } from "undici";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { OPENAI_KEY, manifests, sleep } from "./routing-support.js";

/**
 * Shutdown with a delay (the chart's --shutdown-delay): the gateway keeps answering while it
 * reports not ready and closes every connection after its response, then stops listening.
 */

let upstream: OpenAiFake;
let gateway: TestGateway;

beforeAll(async () => {
  upstream = await startOpenAiFake({ apiKey: OPENAI_KEY });
  gateway = await startTestGateway(
    manifests(
      [{ name: "a", type: "openai", endpoint: upstream.baseUrl }],
      [{ name: "chat", model: "chat", targets: [{ provider: "a", model: "chat" }] }],
    ),
    { gateway: { shutdownDelayMs: 1_500 } },
  );
});

afterAll(async () => {
  await upstream?.close();
});

async function post(): Promise<{ status: number; connection: string | undefined }> {
  const res = await request(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }] }),
  });
  await res.body.text();
  return { status: res.statusCode, connection: res.headers.connection as string | undefined };
}

it("keeps serving while draining, not ready and closing connections, then stops", async () => {
  expect(await post()).toEqual({ status: 200, connection: "keep-alive" });
  const closed = gateway.close();
  await sleep(200);
  expect(await post()).toEqual({ status: 200, connection: "close" });
  const ready = await request(`${gateway.url}/readyz`);
  await ready.body.text();
  expect(ready.statusCode).toBe(503);
  await closed;
  await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow();
});
