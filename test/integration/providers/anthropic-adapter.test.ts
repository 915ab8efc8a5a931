import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatStreamEvent } from "../../../src/gateway/canonical/chat.js";
import type { ProviderAdapter } from "../../../src/gateway/providers/provider-adapter.js";
import { createAdapter } from "../../../src/gateway/providers/adapter-registry.js";
import type { CompiledProvider } from "../../../src/shared/schemas/gateway-config.js";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";
import {
  callContext,
  chatRequestFor,
  collectStream,
  expectCredentialsRejected,
  expectFinishReason,
  expectGatewayError,
  expectStreamedToolCall,
  expectStreamFailure,
  expectUnresolvedCredentials,
  itMapsErrorClasses,
  lastJson,
  parallelToolHistory,
  resetFake,
  testProvider,
  triggerCase,
  user,
  WEATHER_TOOL,
} from "./adapter-test-kit.js";

const API_KEY = "sk-ant-api03-adapter-test-key-0123456789";
const MODEL = "claude-sonnet-4-5";

let fake: FakeServer;

function providerFor(url: string, apiKey = API_KEY): CompiledProvider {
  return testProvider({
    id: "ai/claude",
    type: "anthropic",
    endpoint: url,
    credentials: { mode: "apiKey", apiKey },
    models: [
      { name: "sonnet", upstreamModel: MODEL, kind: "chat", maxOutputTokens: 2048, supportsTools: true },
      { name: "haiku", upstreamModel: "claude-haiku-4-5", kind: "chat", supportsTools: true },
    ],
  });
}

const chatRequest = chatRequestFor(MODEL);
const lastBody = () => lastJson(fake);

let adapter: ProviderAdapter;

beforeAll(async () => {
  fake = await startAnthropicFake({ apiKey: API_KEY, models: [MODEL, "claude-haiku-4-5"] });
});
afterAll(() => fake.close());
beforeEach(() => {
  adapter = createAdapter(providerFor(fake.url));
  resetFake(fake);
});

describe("anthropic adapter against the Anthropic fake", () => {
  it("takes spec.endpoint with or without /v1, as written for OpenAI", async () => {
    for (const endpoint of [`${fake.url}/v1`, `${fake.url}/v1/`]) {
      const res = await createAdapter(providerFor(endpoint)).chat(
        chatRequest({ messages: [user("hi")] }),
        callContext(),
      );
      expect(res.content).toBe("You said: hi");
      expect(fake.requests.at(-1)!.url).toBe("/v1/messages");
    }
  });

  it("chats: system prompt hoisted, answer, stop reason and usage", async () => {
    const res = await adapter.chat(
      chatRequest({ messages: [{ role: "system", content: "Be brief." }, user("Hello there")] }),
      callContext(),
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
    await adapter.chat(chatRequest({ maxTokens: 99 }), callContext());
    expect(lastBody().max_tokens).toBe(99);
    await adapter.chat(chatRequest({ model: "claude-haiku-4-5" }), callContext());
    expect(lastBody().max_tokens).toBe(4096);
  });

  it("passes sampling parameters and stop sequences, and reports a stop-sequence finish", async () => {
    const res = await adapter.chat(
      chatRequest({ temperature: 0.3, topP: 0.9, stop: ["there"] }),
      callContext(),
    );
    expect(res.content).toBe("You said: Hello ");
    expect(res.finishReason).toBe("stop");
    expect(res.rawFinishReason).toBe("stop_sequence");
    expect(lastBody()).toMatchObject({ temperature: 0.3, top_p: 0.9, stop_sequences: ["there"] });
  });

  it("reports a max_tokens cut as finish reason length, in chat and in streams", async () => {
    await expectFinishReason(adapter, chatRequest({ maxTokens: 2 }), "length", "max_tokens");
  });

  it("streams text deltas, one finish, then one usage combining message_start and message_delta", async () => {
    const events = await collectStream(
      await adapter.chatStream(chatRequest({ messages: [user("stream this text please")] }), callContext()),
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
    const events = await collectStream(
      await adapter.chatStream(
        chatRequest({ tools: [WEATHER_TOOL], messages: [user("What's the weather in Lyon?")] }),
        callContext(),
      ),
    );
    expectStreamedToolCall(events, { city: "Lyon" }, "tool_use", { idPrefix: "toolu_" });
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
      callContext(),
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
        messages: [...parallelToolHistory("toolu_"), user("thanks")],
      }),
      callContext(),
    );
    expect(res.content).toBe("Tool result: Oslo: 5C; Rome: 20C");
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
      callContext(),
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
      callContext(),
    );
    expect(JSON.parse(res.content)).toEqual({ answer: "You said: Hello there" });
    expect(lastBody().output_config).toEqual({ format: { type: "json_schema", schema } });
  });

  it("asks for json_object by system instruction, the API having no such mode", async () => {
    await adapter.chat(chatRequest({ responseFormat: { type: "json_object" } }), callContext());
    expect(String(lastBody().system)).toMatch(/single valid JSON object/);
    expect(lastBody().output_config).toBeUndefined();
  });

  it("maps a refusal to content_filter, in chat and in streams", async () => {
    await expectFinishReason(
      adapter,
      chatRequest({ messages: [user("TRIGGER_CONTENT_FILTER")] }),
      "content_filter",
      "refusal",
    );
  });

  itMapsErrorClasses(
    { adapter: () => adapter, fake: () => fake, request: (text) => chatRequest({ messages: [user(text)] }) },
    [
      triggerCase("TRIGGER_CONTEXT_LENGTH", { message: expect.stringContaining("prompt is too long") }),
      triggerCase("TRIGGER_RATE_LIMIT", { retryAfterSeconds: 7, upstreamStatus: 429 }),
      {
        name: "overloaded_error (529)",
        fault: {
          kind: "status",
          status: 529,
          body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
        },
        errorClass: "upstream_unavailable",
      },
      {
        name: "api_error (500)",
        fault: {
          kind: "status",
          status: 500,
          body: { type: "error", error: { type: "api_error", message: "Internal server error" } },
        },
        errorClass: "upstream_unavailable",
      },
      { name: "an unknown model", request: { model: "claude-nope" }, errorClass: "model_not_found" },
      {
        name: "a validation error",
        request: { temperature: 1.5 },
        errorClass: "invalid_request",
        expected: {
          message: expect.stringContaining("temperature: Input should be less than or equal to 1"),
        },
      },
    ],
  );

  it("throws overloaded_error sent mid-stream as upstream_unavailable after the first delta", async () => {
    const stream = await adapter.chatStream(
      chatRequest({ messages: [user("TRIGGER_STREAM_ERROR please")] }),
      callContext(),
    );
    const { seen, error } = await expectStreamFailure(stream, "upstream_unavailable");
    expect(seen).toEqual([{ type: "text-delta", text: expect.any(String) }]);
    expect(error.message).toContain("overloaded_error");
  });

  it("throws an error event that opens the stream before any event is yielded", async () => {
    const stream = await adapter.chatStream(
      chatRequest({ messages: [user("TRIGGER_EARLY_STREAM_ERROR")] }),
      callContext(),
    );
    const iterator = stream[Symbol.asyncIterator]();
    await expectGatewayError(iterator.next(), "upstream_unavailable");
  });

  it("reports bad credentials as authentication without echoing the key", async () => {
    const wrongKey = "sk-ant-api03-wrong-key-9876543210";
    await expectCredentialsRejected(createAdapter(providerFor(fake.url, wrongKey)), { chat: chatRequest() }, [
      wrongKey,
      API_KEY,
    ]);
  });

  it("fails clearly when the provider's Secret could not be resolved", async () => {
    await expectUnresolvedCredentials(
      (credentials) => createAdapter({ ...providerFor(fake.url), credentials }),
      chatRequest(),
      fake,
      "Secret ai/claude-key not found",
    );
  });

  it("probes GET /v1/models with the key", async () => {
    await adapter.probe(callContext());
    const sent = fake.requests.at(-1)!;
    expect(sent.method).toBe("GET");
    expect(sent.url.startsWith("/v1/models")).toBe(true);
    expect(sent.headers["x-api-key"]).toBe(API_KEY);
  });

  it("refuses embeddings: Anthropic has none", async () => {
    const err = await expectGatewayError(
      adapter.embed({ model: MODEL, input: ["hi"] }, callContext()),
      "invalid_request",
    );
    expect(err.message).toMatch(/no embeddings API/);
    expect(fake.requests).toHaveLength(0);
  });
});
