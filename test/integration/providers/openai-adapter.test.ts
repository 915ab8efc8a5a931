import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatRequest, ChatStreamEvent } from "../../../src/gateway/canonical/chat.js";
import { createOpenAiAdapter } from "../../../src/gateway/providers/openai/openai-adapter.js";
import type { CallContext, ProviderAdapter } from "../../../src/gateway/providers/provider-adapter.js";
import { GatewayError } from "../../../src/shared/errors.js";
import type { CompiledProvider, ResolvedCredentials } from "../../../src/shared/schemas/gateway-config.js";
import { embeddingFor, startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";

const KEY = "sk-proj-adapterKey0123456789abcdWXYZ";

function provider(
  endpoint: string,
  credentials: ResolvedCredentials = { mode: "apiKey", apiKey: KEY },
): CompiledProvider {
  return {
    id: "team-a/openai",
    name: "openai",
    namespace: "team-a",
    type: "openai",
    endpoint,
    credentials,
    models: [{ name: "gpt", upstreamModel: "gpt-4o-mini", kind: "chat", supportsTools: true }],
    limits: {},
    timeouts: { connectMs: 2_000, firstTokenMs: 5_000, idleMs: 5_000, totalMs: 10_000 },
    healthCheck: { intervalMs: 30_000, timeoutMs: 5_000, probe: "models" },
    circuitBreaker: { failureThreshold: 5, windowSeconds: 60, openSeconds: 30, halfOpenRequests: 1 },
  };
}

function ctx(timeouts: Partial<CallContext["timeouts"]> = {}): CallContext {
  return {
    signal: new AbortController().signal,
    timeouts: { connectMs: 2_000, firstTokenMs: 5_000, idleMs: 5_000, totalMs: 10_000, ...timeouts },
  };
}

const ask = (text: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: [{ type: "text", text }] }],
  ...extra,
});

const weatherTool = {
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } } },
};

async function events(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const event of stream) out.push(event);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

describe("openai adapter against the OpenAI fake", () => {
  let fake: OpenAiFake;
  let adapter: ProviderAdapter;
  beforeAll(async () => {
    fake = await startOpenAiFake({ apiKey: KEY, models: ["gpt-4o-mini", "text-embedding-3-small"] });
    adapter = createOpenAiAdapter(provider(fake.baseUrl));
  });
  afterAll(() => fake.close());

  it("chats and reports the upstream's usage", async () => {
    const res = await adapter.chat(ask("hello adapter", { maxTokens: 50, temperature: 0.2 }), ctx());
    expect(res).toMatchObject({
      content: "You said: hello adapter",
      finishReason: "stop",
      rawFinishReason: "stop",
      toolCalls: [],
      model: "gpt-4o-mini",
    });
    expect(res.usage).toEqual({
      inputTokens: expect.any(Number),
      outputTokens: 4,
      cacheReadTokens: undefined,
      estimated: false,
    });
    const sent = fake.requests.at(-1)!;
    expect(sent.url).toBe("/v1/chat/completions");
    expect(sent.json).toMatchObject({ model: "gpt-4o-mini", max_completion_tokens: 50, temperature: 0.2 });
    expect(sent.json).not.toHaveProperty("max_tokens");
  });

  it("streams text, then finish, then the usage that came in the last chunk", async () => {
    const stream = await adapter.chatStream(ask("stream this please"), ctx());
    const seen = await events(stream);
    const text = seen.flatMap((e) => (e.type === "text-delta" ? [e.text] : [])).join("");
    expect(text).toBe("You said: stream this please");
    expect(seen.filter((e) => e.type === "text-delta").length).toBeGreaterThan(1);
    expect(seen.slice(-2)).toEqual([
      { type: "finish", finishReason: "stop", rawFinishReason: "stop" },
      { type: "usage", usage: expect.objectContaining({ outputTokens: 5, estimated: false }) },
    ]);
    expect(fake.requests.at(-1)!.json).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("streams tool-call deltas: one start with id and name, then argument fragments", async () => {
    const seen = await events(
      await adapter.chatStream(ask("What's the weather in Berlin?", { tools: [weatherTool] }), ctx()),
    );
    const starts = seen.filter((e) => e.type === "tool-call-start");
    expect(starts).toEqual([
      { type: "tool-call-start", index: 0, id: expect.stringMatching(/^call_/), name: "get_weather" },
    ]);
    const deltas = seen.flatMap((e) => (e.type === "tool-call-delta" ? [e] : []));
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(deltas.every((d) => d.index === 0)).toBe(true);
    expect(JSON.parse(deltas.map((d) => d.argumentsDelta).join(""))).toEqual({ city: "Berlin" });
    expect(seen.find((e) => e.type === "finish")).toEqual({
      type: "finish",
      finishReason: "tool_calls",
      rawFinishReason: "tool_calls",
    });
  });

  it("returns a tool call from a non-streamed chat and continues from tool results in history", async () => {
    const first = await adapter.chat(
      ask("weather in Oslo?", { tools: [weatherTool], toolChoice: "auto" }),
      ctx(),
    );
    expect(first.finishReason).toBe("tool_calls");
    expect(first.toolCalls).toEqual([
      { id: expect.stringMatching(/^call_/), name: "get_weather", arguments: '{"city": "Oslo"}' },
    ]);
    const second = await adapter.chat(
      {
        model: "gpt-4o-mini",
        tools: [weatherTool],
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: [{ type: "text", text: "weather in Oslo?" }] },
          { role: "assistant", content: "", toolCalls: first.toolCalls },
          { role: "tool", toolCallId: first.toolCalls[0]!.id, content: "-3C" },
        ],
      },
      ctx(),
    );
    expect(second.content).toBe("The tool returned: -3C");
    const sent = fake.requests.at(-1)!.json as { messages: Array<Record<string, unknown>> };
    expect(sent.messages[2]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: first.toolCalls[0]!.id,
          type: "function",
          function: { name: "get_weather", arguments: '{"city": "Oslo"}' },
        },
      ],
    });
  });

  it("asks for JSON mode and stops at the output limit with finish reason length", async () => {
    const json = await adapter.chat(ask("reply in json", { responseFormat: { type: "json_object" } }), ctx());
    expect(JSON.parse(json.content)).toEqual({ reply: "You said: reply in json" });
    const cut = await adapter.chat(ask("one two three four", { maxTokens: 2 }), ctx());
    expect(cut).toMatchObject({ content: "You said:", finishReason: "length", rawFinishReason: "length" });
  });

  it("embeds with base64 on the wire and returns the upstream's float vectors", async () => {
    const res = await adapter.embed(
      { model: "text-embedding-3-small", input: ["first text", "second text"], dimensions: 16 },
      ctx(),
    );
    expect(fake.requests.at(-1)!.json).toEqual({
      model: "text-embedding-3-small",
      input: ["first text", "second text"],
      encoding_format: "base64",
      dimensions: 16,
    });
    expect(res.vectors).toEqual([embeddingFor("first text", 16), embeddingFor("second text", 16)]);
    expect(res.usage).toEqual({ inputTokens: 6, estimated: false });
  });

  it("maps context length, rate limit, content filter and unknown models", async () => {
    expect((await failure(adapter.chat(ask("TRIGGER_CONTEXT_LENGTH"), ctx()))).errorClass).toBe(
      "context_length_exceeded",
    );
    const limited = await failure(adapter.chat(ask("TRIGGER_RATE_LIMIT"), ctx()));
    expect(limited).toMatchObject({ errorClass: "rate_limit", retryAfterSeconds: 20, upstreamStatus: 429 });
    expect(limited.message).toContain("Rate limit reached");
    const filtered = await adapter.chat(ask("TRIGGER_CONTENT_FILTER"), ctx());
    expect(filtered).toMatchObject({ finishReason: "content_filter", rawFinishReason: "content_filter" });
    const missing = await failure(adapter.chat({ ...ask("x"), model: "gpt-9" }, ctx()));
    expect(missing.errorClass).toBe("model_not_found");
  });

  it("rejects chatStream itself when the upstream refuses before streaming", async () => {
    const limited = await failure(adapter.chatStream(ask("TRIGGER_RATE_LIMIT"), ctx()));
    expect(limited.errorClass).toBe("rate_limit");
    fake.faults.push({
      kind: "status",
      status: 503,
      body: {
        error: {
          message: "The engine is currently overloaded, please try again later",
          type: "server_error",
        },
      },
    });
    expect((await failure(adapter.chatStream(ask("x"), ctx()))).errorClass).toBe("upstream_unavailable");
  });

  it("throws a GatewayError from the iterator when an error arrives inside the 200 stream", async () => {
    const stream = await adapter.chatStream(ask("TRIGGER_STREAM_ERROR"), ctx());
    const seen: ChatStreamEvent[] = [];
    const err = await failure(
      (async () => {
        for await (const event of stream) seen.push(event);
      })(),
    );
    expect(seen).toEqual([{ type: "text-delta", text: "You" }]);
    expect(err.errorClass).toBe("upstream_unavailable");
    expect(err.message).toContain("The server had an error");
  });

  it("maps transport failures: a reset connection and a missed first-byte deadline", async () => {
    fake.faults.push({ kind: "reset" });
    expect((await failure(adapter.chat(ask("x"), ctx()))).errorClass).toBe("upstream_unavailable");
    fake.faults.push({ kind: "hang" });
    expect((await failure(adapter.chat(ask("x"), ctx({ firstTokenMs: 200 })))).errorClass).toBe("timeout");
  });

  it("probes the models list", async () => {
    await adapter.probe(ctx());
    expect(fake.requests.at(-1)).toMatchObject({ method: "GET", url: "/v1/models" });
  });

  it("reports a rejected key as an authentication error that echoes neither the key nor OpenAI's masked copy", async () => {
    const wrongKey = "sk-proj-wrongKey9876543210zyxwvuABCD";
    const bad = createOpenAiAdapter(provider(fake.baseUrl, { mode: "apiKey", apiKey: wrongKey }));
    for (const attempt of [
      bad.chat(ask("hi"), ctx()),
      bad.chatStream(ask("hi"), ctx()),
      bad.embed({ model: "text-embedding-3-small", input: ["x"] }, ctx()),
      bad.probe(ctx()),
    ]) {
      const err = await failure(attempt);
      expect(err.errorClass).toBe("authentication");
      expect(err.message).toContain("team-a/openai");
      expect(err.message).not.toContain("sk-");
      expect(err.message).not.toContain("ABCD");
      expect(err.message).not.toContain("Incorrect API key");
    }
  });

  it("fails clearly without calling upstream when the key Secret was not resolved", async () => {
    const before = fake.requests.length;
    const unresolved = createOpenAiAdapter(
      provider(fake.baseUrl, {
        mode: "unresolved",
        reason: "SecretNotFound",
        message: "Secret team-a/openai-key not found",
      }),
    );
    const err = await failure(unresolved.chat(ask("hi"), ctx()));
    expect(err.errorClass).toBe("upstream_unavailable");
    expect(err.message).toBe(
      "LLMProvider team-a/openai has no usable credentials: Secret team-a/openai-key not found",
    );
    expect(fake.requests.length).toBe(before);
  });
});
