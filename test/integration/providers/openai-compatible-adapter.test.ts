import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpenAiCompatibleAdapter } from "../../../src/gateway/providers/openai-compatible/openai-compatible-adapter.js";
import type { CompiledProvider, ResolvedCredentials } from "../../../src/shared/schemas/gateway-config.js";
import { embeddingFor, startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import {
  callContext,
  collectStream,
  expectCredentialsRejected,
  expectGatewayError,
  itMapsErrorClasses,
  testProvider,
  triggerCase,
  userTurn as ask,
  WEATHER_TOOL,
} from "./adapter-test-kit.js";

function provider(endpoint: string, credentials: ResolvedCredentials): CompiledProvider {
  return testProvider({
    id: "ml/local-llm",
    type: "openai-compatible",
    endpoint,
    credentials,
    models: [{ name: "llama", upstreamModel: "llama3.2", kind: "chat", supportsTools: true }],
  });
}

describe("openai-compatible adapter against a vLLM server", () => {
  const LLAMA = "meta-llama/Llama-3.1-8B-Instruct";
  let fake: OpenAiFake;
  beforeAll(async () => {
    fake = await startOpenAiFake({
      flavor: "vllm",
      apiKey: "vllm-secret-token-1",
      models: [LLAMA, "BAAI/bge-m3"],
    });
  });
  afterAll(() => fake.close());
  const adapter = () =>
    createOpenAiCompatibleAdapter(provider(fake.baseUrl, { mode: "apiKey", apiKey: "vllm-secret-token-1" }));

  it("reports the usage vLLM sends after the finish chunk", async () => {
    const seen = await collectStream(await adapter().chatStream(ask(LLAMA, "hello vllm"), callContext()));
    expect(seen.map((e) => e.type)).toEqual([
      "text-delta",
      "text-delta",
      "text-delta",
      "text-delta",
      "finish",
      "usage",
    ]);
    expect(seen.at(-1)).toEqual({
      type: "usage",
      usage: { inputTokens: expect.any(Number), outputTokens: 4, estimated: false },
    });
    expect(fake.requests.at(-1)!.json).toMatchObject({
      model: LLAMA,
      stream_options: { include_usage: true },
    });
  });

  it("sends max_tokens, the limit field vLLM-era servers know", async () => {
    const res = await adapter().chat(ask(LLAMA, "a b c d", { maxTokens: 3 }), callContext());
    expect(res).toMatchObject({ finishReason: "length", content: "You said: a" });
    expect(fake.requests.at(-1)!.json).toMatchObject({ max_tokens: 3 });
  });

  describe("maps vLLM's top-level error object", () => {
    itMapsErrorClasses({ adapter, fake: () => fake, request: (text) => ask(LLAMA, text) }, [
      triggerCase("TRIGGER_CONTEXT_LENGTH", {
        message: expect.stringContaining("maximum context length is 4096 tokens"),
      }),
      { name: "an unknown model", request: { model: "other-model" }, errorClass: "model_not_found" },
    ]);
  });

  it("throws from the iterator on vLLM's in-stream error even though [DONE] follows", async () => {
    const stream = await adapter().chatStream(ask(LLAMA, "TRIGGER_STREAM_ERROR"), callContext());
    const err = await expectGatewayError(collectStream(stream));
    expect(err.message).toContain("internal error while generating");
  });

  it("embeds with float encoding", async () => {
    const res = await adapter().embed(
      { model: "BAAI/bge-m3", input: ["vector me"], dimensions: 8 },
      callContext(),
    );
    expect(fake.requests.at(-1)!.json).toEqual({ model: "BAAI/bge-m3", input: ["vector me"], dimensions: 8 });
    expect(res.vectors).toEqual([embeddingFor("vector me", 8)]);
  });

  it("turns vLLM's 401 into an authentication error without the key", async () => {
    await expectCredentialsRejected(
      createOpenAiCompatibleAdapter(provider(fake.baseUrl, { mode: "apiKey", apiKey: "wrong-token-zzz" })),
      { chat: ask(LLAMA, "x"), embed: { model: "BAAI/bge-m3", input: ["x"] } },
      ["wrong-token-zzz"],
    );
  });
});

describe("openai-compatible adapter against Ollama", () => {
  let fake: OpenAiFake;
  beforeAll(async () => {
    fake = await startOpenAiFake({ flavor: "ollama", models: ["llama3.2", "nomic-embed-text"] });
  });
  afterAll(() => fake.close());
  const adapter = () => createOpenAiCompatibleAdapter(provider(fake.baseUrl, { mode: "none" }));

  it("sends no Authorization header and leaves stream usage undefined, not zero", async () => {
    const seen = await collectStream(await adapter().chatStream(ask("llama3.2", "hi ollama"), callContext()));
    expect(fake.requests.at(-1)!.headers.authorization).toBeUndefined();
    expect(seen.some((e) => e.type === "usage")).toBe(false);
    expect(seen.at(-1)).toEqual({ type: "finish", finishReason: "stop", rawFinishReason: "stop" });
    const text = seen.flatMap((e) => (e.type === "text-delta" ? [e.text] : [])).join("");
    expect(text).toBe("You said: hi ollama");
  });

  it("reports non-streamed usage", async () => {
    const res = await adapter().chat(ask("llama3.2", "count me"), callContext());
    expect(res.usage).toMatchObject({ outputTokens: 4, estimated: false });
  });

  it("maps a tool call that arrives whole in one delta", async () => {
    const seen = await collectStream(
      await adapter().chatStream(
        ask("llama3.2", "weather in Rome", { tools: [WEATHER_TOOL] }),
        callContext(),
      ),
    );
    expect(seen.filter((e) => e.type !== "text-delta")).toEqual([
      { type: "tool-call-start", index: 0, id: expect.any(String), name: "get_weather" },
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"city": "Rome"}' },
      { type: "finish", finishReason: "tool_calls", rawFinishReason: "tool_calls" },
    ]);
  });

  describe("maps Ollama's errors", () => {
    itMapsErrorClasses({ adapter, fake: () => fake, request: (text) => ask("llama3.2", text) }, [
      {
        name: "a model that was not pulled",
        request: { model: "mistral" },
        errorClass: "model_not_found",
        expected: { message: expect.stringContaining("try pulling it first") },
      },
      triggerCase("TRIGGER_CONTEXT_LENGTH"),
    ]);
  });

  it("probes /v1/models", async () => {
    await adapter().probe(callContext());
    expect(fake.requests.at(-1)).toMatchObject({ method: "GET", url: "/v1/models" });
  });
});

describe("openai-compatible adapter learning which fields an upstream rejects", () => {
  let fake: OpenAiFake;
  beforeAll(async () => {
    fake = await startOpenAiFake({ apiKey: "sk-compat-0123456789abcdef" });
  });
  afterAll(() => fake.close());
  const adapter = () =>
    createOpenAiCompatibleAdapter(
      provider(fake.baseUrl, { mode: "apiKey", apiKey: "sk-compat-0123456789abcdef" }),
    );

  it("retries without stream_options once the upstream says it does not know them, and remembers", async () => {
    const compat = adapter();
    fake.faults.push({
      kind: "status",
      status: 400,
      body: {
        error: {
          message: "Unrecognized request argument supplied: stream_options",
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      },
    });
    const before = fake.requests.length;
    const seen = await collectStream(
      await compat.chatStream(ask("gpt-4o-mini", "no usage please"), callContext()),
    );
    expect(seen.some((e) => e.type === "usage")).toBe(false);
    const sent = fake.requests.slice(before).map((r) => r.json as Record<string, unknown>);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toHaveProperty("stream_options");
    expect(sent[1]).not.toHaveProperty("stream_options");
    await collectStream(await compat.chatStream(ask("gpt-4o-mini", "again"), callContext()));
    expect(fake.requests.length).toBe(before + 3);
    expect(fake.requests.at(-1)!.json).not.toHaveProperty("stream_options");
  });

  it("switches to max_completion_tokens for a reasoning model that refuses max_tokens", async () => {
    const compat = adapter();
    const before = fake.requests.length;
    const res = await compat.chat(ask("o3-mini", "think about it", { maxTokens: 3 }), callContext());
    expect(res.content).toBe("You said: think");
    const sent = fake.requests.slice(before).map((r) => r.json as Record<string, unknown>);
    expect(sent.map((b) => Object.keys(b).filter((k) => k.startsWith("max_")))).toEqual([
      ["max_tokens"],
      ["max_completion_tokens"],
    ]);
    await compat.chat(ask("o3-mini", "again", { maxTokens: 3 }), callContext());
    expect(fake.requests.length).toBe(before + 3);
  });

  it("does not retry errors that are not about a field", async () => {
    const before = fake.requests.length;
    await expectGatewayError(
      adapter().chat(ask("gpt-4o-mini", "TRIGGER_CONTEXT_LENGTH", { maxTokens: 5 }), callContext()),
      "context_length_exceeded",
    );
    expect(fake.requests.length).toBe(before + 1);
  });
});
