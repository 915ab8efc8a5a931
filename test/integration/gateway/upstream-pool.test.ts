import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeServer, writeSse, type FakeServer } from "../../fakes/fake-http-server.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { chatBody, docs, provider, route } from "./traffic-manifests.js";

/**
 * LLMProvider spec.connectionPool as clients and operators see it: streams past the pool wait in a
 * bounded, visible queue, and past that are refused at once with a 503 in the client's format.
 */

let held: FakeServer;
let gateway: TestGateway;
/** Ends every stream the upstream is holding open. */
const openStreams = new Set<() => void>();

/** An OpenAI-style upstream that sends a first chunk at once, then holds the stream until released. */
async function startHoldingStreamer(): Promise<FakeServer> {
  return startFakeServer(async (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = (delta: object, finish: string | null) => ({
      id: "chatcmpl-held",
      object: "chat.completion.chunk",
      created: 0,
      model: "m",
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    writeSse(res, chunk({ role: "assistant", content: "first " }, null));
    await new Promise<void>((resolve) => {
      const end = () => {
        openStreams.delete(end);
        resolve();
      };
      openStreams.add(end);
      res.on("close", end);
    });
    if (res.writableEnded || res.destroyed) return;
    writeSse(res, chunk({}, "stop"));
    writeSse(res, "[DONE]");
    res.end();
  });
}

function releaseOne(): void {
  const [end] = openStreams;
  end?.();
}

async function releaseAll(): Promise<void> {
  for (const end of [...openStreams]) end();
  await waitFor(async () => (await poolGauge("switchboard_upstream_pool_connections", "narrow")) === 0);
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function poolGauge(name: string, providerName: string): Promise<number | undefined> {
  const text = await (await fetch(`${gateway.adminUrl!}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{provider="default/${providerName}"}`));
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

async function firstChunk(response: Response): Promise<string> {
  const reader = response.body!.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return new TextDecoder().decode(value);
}

const streamChat = (model: string) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: chatBody("hello", { model, stream: true }),
  });

beforeAll(async () => {
  held = await startHoldingStreamer();
  const noRetries = { attempts: 0 };
  const narrow = provider("narrow", `${held.url}/v1`, [{ name: "m" }]) as { spec: Record<string, unknown> };
  narrow.spec.connectionPool = { maxConnections: 2, maxQueued: 1, queueTimeout: "1500ms" };
  gateway = await startTestGateway({
    "all.yaml": docs(
      narrow,
      provider("wide", `${held.url}/v1`, [{ name: "m" }]),
      route("narrow-chat", { targets: [{ provider: "narrow", model: "m" }], retries: noRetries }),
      route("wide-chat", { targets: [{ provider: "wide", model: "m" }], retries: noRetries }),
    ),
  });
});

afterAll(async () => {
  for (const end of [...openStreams]) end();
  await gateway?.close();
  await held?.close();
});

describe("upstream connection pool", () => {
  it("queues past maxConnections where metrics show it, and refuses past maxQueued with a 503", async () => {
    const first = await Promise.all([streamChat("narrow-chat"), streamChat("narrow-chat")]);
    expect(first.map((r) => r.status)).toEqual([200, 200]);
    expect(await poolGauge("switchboard_upstream_pool_connections", "narrow")).toBe(2);
    expect(await poolGauge("switchboard_upstream_pool_max_connections", "narrow")).toBe(2);

    const queued = streamChat("narrow-chat");
    await waitFor(async () => (await poolGauge("switchboard_upstream_pool_waiting", "narrow")) === 1);

    const refused = await streamChat("narrow-chat");
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = (await refused.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("upstream_unavailable_error");
    expect(body.error.message).toContain("default/narrow");
    expect(body.error.message).toContain("spec.connectionPool.maxQueued");

    // A connection comes free: the queued stream gets it.
    releaseOne();
    const served = await queued;
    expect(served.status).toBe(200);
    expect(await firstChunk(served)).toContain("first ");
    expect(await poolGauge("switchboard_upstream_pool_waiting", "narrow")).toBe(0);

    const metrics = await (await fetch(`${gateway.adminUrl!}/metrics`)).text();
    expect(metrics).toContain(
      'switchboard_upstream_pool_refused_total{provider="default/narrow",reason="queue_full"} 1',
    );
    for (const response of [...first, served]) void response.body?.cancel();
    await releaseAll();
  });

  it("refuses a stream that waited queueTimeout for a connection, in the Anthropic format too", async () => {
    const busy = await Promise.all([streamChat("narrow-chat"), streamChat("narrow-chat")]);
    expect(busy.map((r) => r.status)).toEqual([200, 200]);
    const started = Date.now();
    const waited = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({
        model: "narrow-chat",
        max_tokens: 16,
        stream: true,
        messages: [{ role: "user", content: "hello" }],
      }),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(waited.status).toBe(529);
    const body = (await waited.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("overloaded_error");
    expect(body.error.message).toContain("spec.connectionPool.queueTimeout");
    const metrics = await (await fetch(`${gateway.adminUrl!}/metrics`)).text();
    expect(metrics).toContain(
      'switchboard_upstream_pool_refused_total{provider="default/narrow",reason="queue_timeout"} 1',
    );
    for (const response of busy) void response.body?.cancel();
    await releaseAll();
  });

  it("gives 400 concurrent streams to one origin their first bytes without a hidden queue by default", async () => {
    const streams = await Promise.all(Array.from({ length: 400 }, () => streamChat("wide-chat")));
    expect(streams.filter((r) => r.status === 200)).toHaveLength(400);
    expect(await poolGauge("switchboard_upstream_pool_connections", "wide")).toBe(400);
    expect(await poolGauge("switchboard_upstream_pool_waiting", "wide")).toBe(0);
    for (const response of streams) void response.body?.cancel();
    for (const end of [...openStreams]) end();
  }, 120_000);
});
