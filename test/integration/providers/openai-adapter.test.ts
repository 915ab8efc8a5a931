import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatRequest } from "../../../src/gateway/canonical/chat.js";
import { createOpenAiAdapter } from "../../../src/gateway/providers/openai/openai-adapter.js";
import type { ProviderAdapter } from "../../../src/gateway/providers/provider-adapter.js";
import type { CompiledProvider, ResolvedCredentials } from "../../../src/shared/schemas/gateway-config.js";
import { embeddingFor, startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import {
  callContext,
  collectStream,
  expectCredentialsRejected,
  expectFinishReason,
  expectGatewayError,
  expectStreamedToolCall,
  expectStreamFailure,
  expectUnresolvedCredentials,
  itMapsErrorClasses,
  testProvider,
  triggerCase,
  userTurn,
  WEATHER_TOOL,
} from "./adapter-test-kit.js";

const KEY = "sk-proj-adapterKey0123456789abcdWXYZ";

function provider(
  endpoint: string,
  credentials: ResolvedCredentials = { mode: "apiKey", apiKey: KEY },
): CompiledProvider {
  return testProvider({
    id: "team-a/openai",
    type: "openai",
    endpoint,
    credentials,
    models: [{ name: "gpt", upstreamModel: "gpt-4o-mini", kind: "chat", supportsTools: true }],
  });
}

const ask = (text: string, extra?: Partial<ChatRequest>): ChatRequest => userTurn("gpt-4o-mini", text, extra);

describe("openai adapter against the OpenAI fake", () => {
  let fake: OpenAiFake;
  let adapter: ProviderAdapter;
  beforeAll(async () => {
    fake = await startOpenAiFake({ apiKey: KEY, models: ["gpt-4o-mini", "text-embedding-3-small"] });
    adapter = createOpenAiAdapter(provider(fake.baseUrl));
  });
  afterAll(() => fake.close());

  it("chats and reports the upstream's usage", async () => {
    const res = await adapter.chat(ask("hello adapter", { maxTokens: 50, temperature: 0.2 }), callContext());
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
    const stream = await adapter.chatStream(ask("stream this please"), callContext());
    const seen = await collectStream(stream);
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
    const seen = await collectStream(
      await adapter.chatStream(
        ask("What's the weather in Berlin?", { tools: [WEATHER_TOOL] }),
        callContext(),
      ),
    );
    expectStreamedToolCall(seen, { city: "Berlin" }, "tool_calls", { idPrefix: "call_" });
  });

  it("returns a tool call from a non-streamed chat and continues from tool results in history", async () => {
    const first = await adapter.chat(
      ask("weather in Oslo?", { tools: [WEATHER_TOOL], toolChoice: "auto" }),
      callContext(),
    );
    expect(first.finishReason).toBe("tool_calls");
    expect(first.toolCalls).toEqual([
      { id: expect.stringMatching(/^call_/), name: "get_weather", arguments: '{"city": "Oslo"}' },
    ]);
    const second = await adapter.chat(
      {
        model: "gpt-4o-mini",
        tools: [WEATHER_TOOL],
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: [{ type: "text", text: "weather in Oslo?" }] },
          { role: "assistant", content: "", toolCalls: first.toolCalls },
          { role: "tool", toolCallId: first.toolCalls[0]!.id, content: "-3C" },
        ],
      },
      callContext(),
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
    const json = await adapter.chat(
      ask("reply in json", { responseFormat: { type: "json_object" } }),
      callContext(),
    );
    expect(JSON.parse(json.content)).toEqual({ reply: "You said: reply in json" });
    const cut = await adapter.chat(ask("one two three four", { maxTokens: 2 }), callContext());
    expect(cut).toMatchObject({ content: "You said:", finishReason: "length", rawFinishReason: "length" });
  });

  it("embeds with base64 on the wire and returns the upstream's float vectors", async () => {
    const res = await adapter.embed(
      { model: "text-embedding-3-small", input: ["first text", "second text"], dimensions: 16 },
      callContext(),
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

  itMapsErrorClasses({ adapter: () => adapter, fake: () => fake, request: (text) => ask(text) }, [
    triggerCase("TRIGGER_CONTEXT_LENGTH"),
    triggerCase("TRIGGER_RATE_LIMIT", {
      retryAfterSeconds: 20,
      upstreamStatus: 429,
      message: expect.stringContaining("Rate limit reached"),
    }),
    { name: "an unknown model", request: { model: "gpt-9" }, errorClass: "model_not_found" },
    {
      name: "an overloaded engine (503)",
      fault: {
        kind: "status",
        status: 503,
        body: {
          error: {
            message: "The engine is currently overloaded, please try again later",
            type: "server_error",
          },
        },
      },
      errorClass: "upstream_unavailable",
    },
    { name: "a reset connection", fault: { kind: "reset" }, errorClass: "upstream_unavailable" },
  ]);

  it("reports the content filter as finish reason content_filter, in chat and in streams", async () => {
    await expectFinishReason(adapter, ask("TRIGGER_CONTENT_FILTER"), "content_filter", "content_filter");
  });

  it("throws a GatewayError from the iterator when an error arrives inside the 200 stream", async () => {
    const stream = await adapter.chatStream(ask("TRIGGER_STREAM_ERROR"), callContext());
    const { seen, error } = await expectStreamFailure(stream, "upstream_unavailable");
    expect(seen).toEqual([{ type: "text-delta", text: "You" }]);
    expect(error.message).toContain("The server had an error");
  });

  it("times out when the first byte misses its deadline", async () => {
    fake.faults.push({ kind: "hang" });
    await expectGatewayError(
      adapter.chat(ask("x"), callContext({ timeouts: { firstTokenMs: 200 } })),
      "timeout",
    );
  });

  it("probes the models list", async () => {
    await adapter.probe(callContext());
    expect(fake.requests.at(-1)).toMatchObject({ method: "GET", url: "/v1/models" });
  });

  it("reports a rejected key as an authentication error that echoes neither the key nor OpenAI's masked copy", async () => {
    const wrongKey = "sk-proj-wrongKey9876543210zyxwvuABCD";
    const errors = await expectCredentialsRejected(
      createOpenAiAdapter(provider(fake.baseUrl, { mode: "apiKey", apiKey: wrongKey })),
      { chat: ask("hi"), embed: { model: "text-embedding-3-small", input: ["x"] } },
      ["sk-", "ABCD", "Incorrect API key"],
    );
    for (const err of errors) expect(err.message).toContain("team-a/openai");
  });

  it("fails clearly without calling upstream when the key Secret was not resolved", async () => {
    await expectUnresolvedCredentials(
      (credentials) => createOpenAiAdapter(provider(fake.baseUrl, credentials)),
      ask("hi"),
      fake,
      "Secret team-a/openai-key not found",
    );
  });
});
