import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatMessage, ChatRequest, ChatStreamEvent } from "../../../src/gateway/canonical/chat.js";
import type { CallContext, ProviderAdapter } from "../../../src/gateway/providers/provider-adapter.js";
import { createAdapter } from "../../../src/gateway/providers/adapter-registry.js";
import type { CompiledProvider } from "../../../src/shared/schemas/gateway-config.js";
import { GatewayError } from "../../../src/shared/errors.js";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";

const API_KEY = "sk-ant-api03-adapter-test-key-0123456789";
const MODEL = "claude-sonnet-4-5";
const WEATHER_TOOL = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

let fake: FakeServer;

function providerFor(url: string, apiKey = API_KEY): CompiledProvider {
  return {
    id: "ai/claude",
    name: "claude",
    namespace: "ai",
    type: "anthropic",
    endpoint: url,
    credentials: { mode: "apiKey", apiKey },
    models: [
      { name: "sonnet", upstreamModel: MODEL, kind: "chat", maxOutputTokens: 2048, supportsTools: true },
      { name: "haiku", upstreamModel: "claude-haiku-4-5", kind: "chat", supportsTools: true },
    ],
    limits: {},
    timeouts: { connectMs: 2000, firstTokenMs: 5000, idleMs: 5000, totalMs: 10000 },
    healthCheck: { intervalMs: 30000, timeoutMs: 5000, probe: "models" },
    circuitBreaker: { failureThreshold: 5, windowSeconds: 60, openSeconds: 30, halfOpenRequests: 1 },
  };
}

function ctx(): CallContext {
  return { signal: new AbortController().signal, timeouts: providerFor("").timeouts };
}

function user(text: string): ChatMessage {
  return { role: "user", content: [{ type: "text", text }] };
}

function chatRequest(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { model: MODEL, messages: [user("Hello there")], ...overrides };
}

async function collect(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const events: ChatStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

function lastBody(): Record<string, unknown> {
  return fake.requests.at(-1)!.json as Record<string, unknown>;
}

let adapter: ProviderAdapter;

beforeAll(async () => {
  fake = await startAnthropicFake({ apiKey: API_KEY, models: [MODEL, "claude-haiku-4-5"] });
});
afterAll(() => fake.close());
beforeEach(() => {
  adapter = createAdapter(providerFor(fake.url));
  fake.requests.length = 0;
  fake.faults.length = 0;
});

describe("anthropic adapter against the Anthropic fake", () => {
  it("chats: system prompt hoisted, answer, stop reason and usage", async () => {
    const res = await adapter.chat(
      chatRequest({ messages: [{ role: "system", content: "Be brief." }, user("Hello there")] }),
      ctx(),
    );
    expect(res.content).toBe("You said: Hello there");
    expect(res.finishReason).toBe("stop");
    expect(res.rawFinishReason).toBe("end_turn");
    expect(res.model).toBe(MODEL);
    expect(res.usage).toMatchObject({ estimated: false });
    expect(res.usage!.inputTokens).toBeGreaterThan(0);
    expect(res.usage!.outputTokens).toBeGreaterThan(0);

    const sent = fake.requests.at(-1)!;
    expect(sent.url).toBe("/v1/messages");
    expect(sent.headers["x-api-key"]).toBe(API_KEY);
    expect(sent.headers["anthropic-version"]).toBe("2023-06-01");
    expect(lastBody()).toMatchObject({ model: MODEL, system: "Be brief.", max_tokens: 2048 });
  });

  it("sends max_tokens from the request, else the model spec, else 4096", async () => {
    await adapter.chat(chatRequest({ maxTokens: 99 }), ctx());
    expect(lastBody().max_tokens).toBe(99);
    await adapter.chat(chatRequest({ model: "claude-haiku-4-5" }), ctx());
    expect(lastBody().max_tokens).toBe(4096);
  });

  it("passes sampling parameters and stop sequences, and reports a stop-sequence finish", async () => {
    const res = await adapter.chat(chatRequest({ temperature: 0.3, topP: 0.9, stop: ["there"] }), ctx());
    expect(res.content).toBe("You said: Hello ");
    expect(res.finishReason).toBe("stop");
    expect(res.rawFinishReason).toBe("stop_sequence");
    expect(lastBody()).toMatchObject({ temperature: 0.3, top_p: 0.9, stop_sequences: ["there"] });
  });

  it("reports a max_tokens cut as finish reason length", async () => {
    const res = await adapter.chat(chatRequest({ maxTokens: 2 }), ctx());
    expect(res.finishReason).toBe("length");
    expect(res.rawFinishReason).toBe("max_tokens");
  });

  it("streams text deltas, one finish, then one usage combining message_start and message_delta", async () => {
    const events = await collect(
      await adapter.chatStream(chatRequest({ messages: [user("stream this text please")] }), ctx()),
    );
    const texts = events.filter((e) => e.type === "text-delta");
    expect(texts.length).toBeGreaterThan(1);
    expect(texts.map((e) => e.text).join("")).toBe("You said: stream this text please");
    expect(events.filter((e) => e.type === "finish")).toEqual([
      { type: "finish", finishReason: "stop", rawFinishReason: "end_turn" },
    ]);
    const usage = events.filter((e) => e.type === "usage");
    expect(usage).toHaveLength(1);
    expect(events.at(-1)!.type).toBe("usage");
    const { inputTokens, outputTokens } = (usage[0] as Extract<ChatStreamEvent, { type: "usage" }>).usage;
    expect(inputTokens).toBeGreaterThan(0);
    // message_start reports output_tokens: 1; the final count comes from message_delta.
    expect(outputTokens).toBeGreaterThan(1);
    expect(lastBody().stream).toBe(true);
  });

  it("streams a tool call: start at index 0 after a text block, arguments in several deltas", async () => {
    const events = await collect(
      await adapter.chatStream(
        chatRequest({ tools: [WEATHER_TOOL], messages: [user("What's the weather in Lyon?")] }),
        ctx(),
      ),
    );
    const starts = events.filter((e) => e.type === "tool-call-start");
    expect(starts).toEqual([
      { type: "tool-call-start", index: 0, id: expect.stringMatching(/^toolu_/), name: "get_weather" },
    ]);
    const deltas = events.filter((e) => e.type === "tool-call-delta");
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    expect(deltas.every((d) => d.index === 0)).toBe(true);
    expect(JSON.parse(deltas.map((d) => d.argumentsDelta).join(""))).toEqual({ city: "Lyon" });
    expect(events.find((e) => e.type === "finish")).toEqual({
      type: "finish",
      finishReason: "tool_calls",
      rawFinishReason: "tool_use",
    });
    expect(lastBody().tools).toEqual([
      {
        name: "get_weather",
        description: "Current weather for a city",
        input_schema: WEATHER_TOOL.parameters,
      },
    ]);
  });

  it("returns tool calls from a non-streamed answer with JSON arguments", async () => {
    const res = await adapter.chat(
      chatRequest({ tools: [WEATHER_TOOL], toolChoice: "required", messages: [user("Oslo please")] }),
      ctx(),
    );
    expect(res.finishReason).toBe("tool_calls");
    expect(res.toolCalls).toHaveLength(1);
    expect(res.toolCalls[0]!.name).toBe("get_weather");
    expect(JSON.parse(res.toolCalls[0]!.arguments)).toEqual({ city: "Paris" });
    expect(lastBody().tool_choice).toEqual({ type: "any" });
  });

  it("sends tool history the API accepts: parallel results merged into one user turn with the next user text", async () => {
    const res = await adapter.chat(
      chatRequest({
        tools: [WEATHER_TOOL],
        messages: [
          user("weather in Oslo and Rome?"),
          {
            role: "assistant",
            content: "",
            toolCalls: [
              { id: "toolu_a", name: "get_weather", arguments: '{"city":"Oslo"}' },
              { id: "toolu_b", name: "get_weather", arguments: '{"city":"Rome"}' },
            ],
          },
          { role: "tool", toolCallId: "toolu_a", content: "4°C" },
          { role: "tool", toolCallId: "toolu_b", content: "19°C" },
          user("thanks"),
        ],
      }),
      ctx(),
    );
    expect(res.content).toBe("Tool result: 4°C; 19°C");
    const messages = lastBody().messages as Array<{ role: string; content: Array<{ type: string }> }>;
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(messages[1]!.content).toEqual([
      { type: "tool_use", id: "toolu_a", name: "get_weather", input: { city: "Oslo" } },
      { type: "tool_use", id: "toolu_b", name: "get_weather", input: { city: "Rome" } },
    ]);
    expect(messages[2]!.content.map((b) => b.type)).toEqual(["tool_result", "tool_result", "text"]);
  });

  it("sends images as base64 and URL sources", async () => {
    await adapter.chat(
      chatRequest({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "what is in these?" },
              { type: "image", mediaType: "image/png", data: "iVBORw0KGgo=" },
              { type: "image", url: "https://example.com/cat.jpg" },
            ],
          },
        ],
      }),
      ctx(),
    );
    const [message] = lastBody().messages as Array<{ content: unknown[] }>;
    expect(message!.content.slice(1)).toEqual([
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
    ]);
  });

  it("asks for json_schema through structured outputs and gets JSON back", async () => {
    const schema = {
      type: "object",
      properties: { answer: { type: "string" } },
      required: ["answer"],
      additionalProperties: false,
    };
    const res = await adapter.chat(
      chatRequest({ responseFormat: { type: "json_schema", name: "reply", schema } }),
      ctx(),
    );
    expect(JSON.parse(res.content)).toEqual({ answer: "You said: Hello there" });
    expect(lastBody().output_config).toEqual({ format: { type: "json_schema", schema } });
  });

  it("asks for json_object by system instruction, the API having no such mode", async () => {
    await adapter.chat(chatRequest({ responseFormat: { type: "json_object" } }), ctx());
    expect(String(lastBody().system)).toMatch(/single valid JSON object/);
    expect(lastBody().output_config).toBeUndefined();
  });

  it("maps a refusal to content_filter, in chat and in streams", async () => {
    const res = await adapter.chat(chatRequest({ messages: [user("TRIGGER_CONTENT_FILTER")] }), ctx());
    expect(res.finishReason).toBe("content_filter");
    expect(res.rawFinishReason).toBe("refusal");
    const events = await collect(
      await adapter.chatStream(chatRequest({ messages: [user("TRIGGER_CONTENT_FILTER")] }), ctx()),
    );
    expect(events.find((e) => e.type === "finish")).toEqual({
      type: "finish",
      finishReason: "content_filter",
      rawFinishReason: "refusal",
    });
  });

  it("maps the prompt-too-long error to context_length_exceeded", async () => {
    const err = await failure(
      adapter.chat(chatRequest({ messages: [user("TRIGGER_CONTEXT_LENGTH")] }), ctx()),
    );
    expect(err.errorClass).toBe("context_length_exceeded");
    expect(err.message).toContain("prompt is too long");
    // Stream requests fail before resolving, so routing can still fall back.
    const streamErr = await failure(
      adapter.chatStream(chatRequest({ messages: [user("TRIGGER_CONTEXT_LENGTH")] }), ctx()),
    );
    expect(streamErr.errorClass).toBe("context_length_exceeded");
  });

  it("maps rate_limit_error with its retry-after", async () => {
    const err = await failure(adapter.chat(chatRequest({ messages: [user("TRIGGER_RATE_LIMIT")] }), ctx()));
    expect(err.errorClass).toBe("rate_limit");
    expect(err.retryAfterSeconds).toBe(7);
    expect(err.upstreamStatus).toBe(429);
  });

  it("throws overloaded_error sent mid-stream as upstream_unavailable after the first delta", async () => {
    const stream = await adapter.chatStream(
      chatRequest({ messages: [user("TRIGGER_STREAM_ERROR please")] }),
      ctx(),
    );
    const seen: ChatStreamEvent[] = [];
    const err = await failure(
      (async () => {
        for await (const event of stream) seen.push(event);
      })(),
    );
    expect(seen).toEqual([{ type: "text-delta", text: expect.any(String) }]);
    expect(err.errorClass).toBe("upstream_unavailable");
    expect(err.message).toContain("overloaded_error");
  });

  it("throws an error event that opens the stream before any event is yielded", async () => {
    const stream = await adapter.chatStream(
      chatRequest({ messages: [user("TRIGGER_EARLY_STREAM_ERROR")] }),
      ctx(),
    );
    const iterator = stream[Symbol.asyncIterator]();
    const err = await failure(iterator.next());
    expect(err.errorClass).toBe("upstream_unavailable");
  });

  it("maps overloaded (529) and api_error (500) responses to upstream_unavailable", async () => {
    fake.faults.push({
      kind: "status",
      status: 529,
      body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
    });
    expect((await failure(adapter.chat(chatRequest(), ctx()))).errorClass).toBe("upstream_unavailable");
    fake.faults.push({
      kind: "status",
      status: 500,
      body: { type: "error", error: { type: "api_error", message: "Internal server error" } },
    });
    expect((await failure(adapter.chatStream(chatRequest(), ctx()))).errorClass).toBe("upstream_unavailable");
  });

  it("maps an unknown model to model_not_found", async () => {
    const err = await failure(adapter.chat(chatRequest({ model: "claude-nope" }), ctx()));
    expect(err.errorClass).toBe("model_not_found");
  });

  it("passes the API's validation errors through as invalid_request", async () => {
    const err = await failure(adapter.chat(chatRequest({ temperature: 1.5 }), ctx()));
    expect(err.errorClass).toBe("invalid_request");
    expect(err.message).toContain("temperature: Input should be less than or equal to 1");
  });

  it("reports bad credentials as authentication without echoing the key", async () => {
    const wrongKey = "sk-ant-api03-wrong-key-9876543210";
    const bad = createAdapter(providerFor(fake.url, wrongKey));
    const err = await failure(bad.chat(chatRequest(), ctx()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).not.toContain(wrongKey);
    expect(err.message).not.toContain(API_KEY);
    expect((await failure(bad.probe(ctx()))).errorClass).toBe("authentication");
    expect((await failure(bad.chatStream(chatRequest(), ctx()))).errorClass).toBe("authentication");
  });

  it("fails clearly when the provider's Secret could not be resolved", async () => {
    const unresolved = createAdapter({
      ...providerFor(fake.url),
      credentials: {
        mode: "unresolved",
        reason: "SecretNotFound",
        message: "Secret ai/claude-key not found",
      },
    });
    const err = await failure(unresolved.chat(chatRequest(), ctx()));
    expect(err.errorClass).toBe("upstream_unavailable");
    expect(err.message).toContain("Secret ai/claude-key not found");
    expect(fake.requests).toHaveLength(0);
  });

  it("probes GET /v1/models with the key", async () => {
    await adapter.probe(ctx());
    const sent = fake.requests.at(-1)!;
    expect(sent.method).toBe("GET");
    expect(sent.url.startsWith("/v1/models")).toBe(true);
    expect(sent.headers["x-api-key"]).toBe(API_KEY);
  });

  it("refuses embeddings: Anthropic has none", async () => {
    const err = await failure(adapter.embed({ model: MODEL, input: ["hi"] }, ctx()));
    expect(err.errorClass).toBe("invalid_request");
    expect(err.message).toMatch(/no embeddings API/);
    expect(fake.requests).toHaveLength(0);
  });
});
