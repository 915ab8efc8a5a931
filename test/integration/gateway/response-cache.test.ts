import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { chatBody, docs, provider, route } from "./traffic-manifests.js";

/** LLMRoute spec.cache: exact-match answers served without an upstream call, in any format. */

let upstream: OpenAiFake;
let gateway: TestGateway;

const chatCalls = () => upstream.requests.filter((r) => r.url.endsWith("/chat/completions")).length;
const embedCalls = () => upstream.requests.filter((r) => r.url.endsWith("/embeddings")).length;
const post = (path: string, body: unknown) =>
  fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
const chat = (model: string, text: string, extra: Record<string, unknown> = {}) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: chatBody(text, { model, ...extra }),
  });

/** Content and usage chunks of an OpenAI SSE body. */
function parseSse(text: string): { chunks: string[]; content: string; usage?: { prompt_tokens: number } } {
  const frames = text.split("\n\n").filter((f) => f.startsWith("data: ") && f !== "data: [DONE]");
  const parsed = frames.map(
    (f) =>
      JSON.parse(f.slice(6)) as {
        choices: Array<{ delta: { content?: string } }>;
        usage?: { prompt_tokens: number };
      },
  );
  const chunks = parsed.map((p) => p.choices[0]?.delta.content ?? "").filter(Boolean);
  return { chunks, content: chunks.join(""), usage: parsed.find((p) => p.usage)?.usage };
}

beforeAll(async () => {
  upstream = await startOpenAiFake({ flavor: "vllm" });
  gateway = await startTestGateway({
    "all.yaml": docs(
      provider("fake", upstream.baseUrl, [{ name: "chat" }, { name: "embed", kind: "embedding" }]),
      route("cached", { targets: [{ provider: "fake", model: "chat" }], cache: { ttl: "1h" } }),
      route("short-lived", { targets: [{ provider: "fake", model: "chat" }], cache: { ttl: "300ms" } }),
      route("uncached", { targets: [{ provider: "fake", model: "chat" }] }),
      route("cached-embed", { targets: [{ provider: "fake", model: "embed" }], cache: { ttl: "1h" } }),
    ),
  });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

describe("response cache", () => {
  it("answers a repeated request from the cache, saying so in x-switchboard-cache", async () => {
    const before = chatCalls();
    const first = await chat("cached", "what is two plus two");
    expect(first.headers.get("x-switchboard-cache")).toBe("miss");
    const second = await chat("cached", "what is two plus two");
    expect(second.status).toBe(200);
    expect(second.headers.get("x-switchboard-cache")).toBe("hit");
    type Completion = { id: string; choices: Array<{ message: { content: string } }> };
    const a = (await first.json()) as Completion;
    const b = (await second.json()) as Completion;
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(b.id).not.toBe(a.id);
    expect(chatCalls() - before).toBe(1);
  });

  it("misses on any difference in the request", async () => {
    const before = chatCalls();
    await chat("cached", "question one");
    const other = await chat("cached", "question one", { temperature: 0.5 });
    expect(other.headers.get("x-switchboard-cache")).toBe("miss");
    expect(chatCalls() - before).toBe(2);
  });

  it("replays a cached answer to a streaming client, and a streamed answer chunk by chunk", async () => {
    await chat("cached", "stream me later");
    const before = chatCalls();
    const replayed = await chat("cached", "stream me later", {
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(replayed.headers.get("content-type")).toContain("text/event-stream");
    expect(replayed.headers.get("x-switchboard-cache")).toBe("hit");
    const text = await replayed.text();
    expect(parseSse(text).content).toBe("You said: stream me later");
    expect(parseSse(text).usage?.prompt_tokens).toBeGreaterThan(0);
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);

    const original = parseSse(await (await chat("cached", "a streamed answer", { stream: true })).text());
    const again = await chat("cached", "a streamed answer", { stream: true });
    expect(again.headers.get("x-switchboard-cache")).toBe("hit");
    expect(parseSse(await again.text()).chunks).toEqual(original.chunks);
    expect(original.chunks.length).toBeGreaterThan(1);
    expect(chatCalls() - before).toBe(1);
  });

  it("serves an Anthropic client from an answer cached for an OpenAI client", async () => {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
    await openai.chat.completions.create({
      model: "cached",
      max_tokens: 64,
      messages: [{ role: "user", content: "shared between formats" }],
    });
    const before = chatCalls();
    const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: "unused", maxRetries: 0 });
    const { data, response } = await anthropic.messages
      .create({
        model: "cached",
        max_tokens: 64,
        messages: [{ role: "user", content: "shared between formats" }],
      })
      .withResponse();
    expect(response.headers.get("x-switchboard-cache")).toBe("hit");
    expect(data.content[0]).toMatchObject({ type: "text", text: "You said: shared between formats" });
    expect(chatCalls()).toBe(before);
  });

  it("never caches errors", async () => {
    const before = chatCalls();
    const first = await chat("cached", "TRIGGER_CONTEXT_LENGTH please");
    const second = await chat("cached", "TRIGGER_CONTEXT_LENGTH please");
    expect([first.status, second.status]).toEqual([400, 400]);
    expect(chatCalls() - before).toBe(2);
  });

  it("does not cache a stream that failed midway", async () => {
    const before = chatCalls();
    await (await chat("cached", "TRIGGER_STREAM_ERROR now", { stream: true })).text();
    const again = await chat("cached", "TRIGGER_STREAM_ERROR now", { stream: true });
    expect(again.headers.get("x-switchboard-cache")).toBe("miss");
    await again.text();
    expect(chatCalls() - before).toBe(2);
  });

  it("expires entries after the route's ttl", async () => {
    await chat("short-lived", "soon stale");
    expect((await chat("short-lived", "soon stale")).headers.get("x-switchboard-cache")).toBe("hit");
    await new Promise((r) => setTimeout(r, 400));
    expect((await chat("short-lived", "soon stale")).headers.get("x-switchboard-cache")).toBe("miss");
  });

  it("leaves routes without spec.cache alone", async () => {
    const before = chatCalls();
    const res = await chat("uncached", "same");
    await chat("uncached", "same");
    expect(res.headers.get("x-switchboard-cache")).toBeNull();
    expect(chatCalls() - before).toBe(2);
  });

  it("caches embeddings, whatever encoding the client asks for", async () => {
    const before = embedCalls();
    const first = await post("/v1/embeddings", { model: "cached-embed", input: ["alpha", "beta"] });
    const second = await post("/v1/embeddings", {
      model: "cached-embed",
      input: ["alpha", "beta"],
      encoding_format: "base64",
    });
    expect(first.headers.get("x-switchboard-cache")).toBe("miss");
    expect(second.headers.get("x-switchboard-cache")).toBe("hit");
    const floats = ((await first.json()) as { data: Array<{ embedding: number[] }> }).data[0]!.embedding;
    const base64 = ((await second.json()) as { data: Array<{ embedding: string }> }).data[0]!.embedding;
    const decoded = Array.from(new Float32Array(Buffer.from(base64, "base64").buffer.slice(0)));
    expect(decoded).toHaveLength(floats.length);
    decoded.forEach((v, i) => expect(v).toBeCloseTo(floats[i]!, 6));
    expect(embedCalls() - before).toBe(1);
  });

  it("counts hits and misses per route in Prometheus", async () => {
    const metrics = await (await fetch(`${gateway.adminUrl!}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_cache_requests_total\{route="default\/cached",result="hit"\} [1-9]/);
    expect(metrics).toMatch(
      /switchboard_cache_requests_total\{route="default\/cached",result="miss"\} [1-9]/,
    );
  });
});
