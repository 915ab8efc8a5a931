import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatMessage, ChatRequest, ChatStreamEvent } from "../../../src/gateway/canonical/chat.js";
import type { CallContext, ProviderAdapter } from "../../../src/gateway/providers/provider-adapter.js";
import { createAdapter } from "../../../src/gateway/providers/adapter-registry.js";
import type { CompiledProvider, ResolvedCredentials } from "../../../src/shared/schemas/gateway-config.js";
import { GatewayError } from "../../../src/shared/errors.js";
import {
  createTestServiceAccount,
  startVertexFake,
  type TestServiceAccount,
  type VertexFake,
} from "../../fakes/vertex-fake.js";

const PROJECT = "switchboard-test";
const REGION = "us-east5";
const GEMINI = "gemini-2.5-flash";
const CLAUDE = "claude-sonnet-4-5@20250929";
const WEATHER_TOOL = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  },
};

let fake: VertexFake;
let account: TestServiceAccount;
let adapter: ProviderAdapter;

function providerFor(
  credentials: ResolvedCredentials,
  models: CompiledProvider["models"] = defaultModels(),
): CompiledProvider {
  return {
    id: "ai/vertex",
    name: "vertex",
    namespace: "ai",
    type: "vertex",
    endpoint: fake.url,
    region: REGION,
    project: PROJECT,
    credentials,
    models,
    limits: {},
    timeouts: { connectMs: 2000, firstTokenMs: 5000, idleMs: 5000, totalMs: 10000 },
    healthCheck: { intervalMs: 30000, timeoutMs: 5000, probe: "models" },
    circuitBreaker: { failureThreshold: 5, windowSeconds: 60, openSeconds: 30, halfOpenRequests: 1 },
  };
}

function defaultModels(): CompiledProvider["models"] {
  return [
    { name: "flash", upstreamModel: GEMINI, kind: "chat", supportsTools: true },
    { name: "sonnet", upstreamModel: CLAUDE, kind: "chat", maxOutputTokens: 1024, supportsTools: true },
    { name: "embed", upstreamModel: "text-embedding-005", kind: "embedding", supportsTools: false },
  ];
}

function keyCredentials(key: object = account.key): ResolvedCredentials {
  return { mode: "apiKey", apiKey: JSON.stringify(key) };
}

function ctx(): CallContext {
  return {
    signal: new AbortController().signal,
    timeouts: { connectMs: 2000, firstTokenMs: 5000, idleMs: 5000, totalMs: 10000 },
  };
}

function user(text: string): ChatMessage {
  return { role: "user", content: [{ type: "text", text }] };
}

function chatRequest(overrides: Partial<ChatRequest> = {}): ChatRequest {
  return { model: GEMINI, messages: [user("Hello there")], ...overrides };
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

function lastCall(): { path: string; query: string; body: Record<string, unknown> } {
  const request = fake.requests.at(-1)!;
  const url = new URL(request.url, "http://fake");
  return { path: url.pathname, query: url.search, body: request.json as Record<string, unknown> };
}

const modelPath = (publisher: string, model: string, method: string): string =>
  `/v1/projects/${PROJECT}/locations/${REGION}/publishers/${publisher}/models/${model}:${method}`;

beforeAll(async () => {
  account = createTestServiceAccount(PROJECT, "http://127.0.0.1:1/token");
  fake = await startVertexFake({
    project: PROJECT,
    region: REGION,
    serviceAccountEmail: account.key.client_email,
    serviceAccountPublicKey: account.publicKey,
  });
  account.key.token_uri = fake.tokenUrl;
});
afterAll(() => fake.close());
beforeEach(() => {
  adapter = createAdapter(providerFor(keyCredentials()));
  fake.requests.length = 0;
  fake.authRequests.length = 0;
  fake.faults.length = 0;
});

describe("vertex adapter: Gemini", () => {
  it("answers a chat with a service-account token at the exact generateContent path", async () => {
    const response = await adapter.chat(
      chatRequest({
        messages: [{ role: "system", content: "Be brief." }, user("Hello there")],
        maxTokens: 50,
        temperature: 0.2,
      }),
      ctx(),
    );
    expect(response.content).toBe("You said: Hello there");
    expect(response.finishReason).toBe("stop");
    expect(response.rawFinishReason).toBe("STOP");
    expect(response.usage).toMatchObject({
      outputTokens: Math.ceil("You said: Hello there".length / 4),
      estimated: false,
    });
    expect(response.usage!.inputTokens).toBeGreaterThan(0);
    const call = lastCall();
    expect(call.path).toBe(modelPath("google", GEMINI, "generateContent"));
    expect(call.body).toMatchObject({
      systemInstruction: { parts: [{ text: "Be brief." }] },
      contents: [{ role: "user", parts: [{ text: "Hello there" }] }],
      generationConfig: { maxOutputTokens: 50, temperature: 0.2 },
    });
    expect(fake.requests.at(-1)!.headers.authorization).toMatch(/^Bearer ya29\./);
  });

  it("reuses the access token across calls instead of fetching one per request", async () => {
    await adapter.chat(chatRequest(), ctx());
    await adapter.chat(chatRequest(), ctx());
    await collect(await adapter.chatStream(chatRequest(), ctx()));
    expect(fake.authRequests.filter((r) => r.url === "/token")).toHaveLength(1);
  });

  it("maps MAX_TOKENS to length", async () => {
    const response = await adapter.chat(chatRequest({ maxTokens: 2 }), ctx());
    expect(response.finishReason).toBe("length");
    expect(response.rawFinishReason).toBe("MAX_TOKENS");
  });

  it("streams text over SSE (alt=sse) with one finish and usage", async () => {
    const events = await collect(
      await adapter.chatStream(chatRequest({ messages: [user("stream a few words back")] }), ctx()),
    );
    expect(lastCall().query).toBe("?alt=sse");
    const deltas = events.filter((e) => e.type === "text-delta");
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((e) => (e.type === "text-delta" ? e.text : "")).join("")).toBe(
      "You said: stream a few words back",
    );
    expect(events.filter((e) => e.type === "finish")).toEqual([
      { type: "finish", finishReason: "stop", rawFinishReason: "STOP" },
    ]);
    expect(events.at(-1)).toMatchObject({ type: "usage", usage: { estimated: false } });
  });

  it("returns a tool call with a synthesized id, from a schema stripped to Gemini's subset", async () => {
    const response = await adapter.chat(
      chatRequest({ messages: [user("What is the weather in Lisbon?")], tools: [WEATHER_TOOL] }),
      ctx(),
    );
    expect(response.finishReason).toBe("tool_calls");
    expect(response.toolCalls).toHaveLength(1);
    expect(response.toolCalls[0]).toMatchObject({ name: "get_weather", arguments: '{"city":"Lisbon"}' });
    expect(response.toolCalls[0]!.id).toMatch(/^call_/);
    const declaration = (
      lastCall().body.tools as Array<{ functionDeclarations: Array<Record<string, unknown>> }>
    )[0]!.functionDeclarations[0]!;
    expect(declaration.parameters).toEqual({
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
    });
  });

  it("streams a tool call as one start and one delta with the whole arguments", async () => {
    const events = await collect(
      await adapter.chatStream(
        chatRequest({
          messages: [user("What is the weather in Lisbon?")],
          tools: [WEATHER_TOOL],
          toolChoice: "auto",
        }),
        ctx(),
      ),
    );
    const start = events.find((e) => e.type === "tool-call-start");
    expect(start).toMatchObject({ type: "tool-call-start", index: 0, name: "get_weather" });
    expect(events.filter((e) => e.type === "tool-call-delta")).toEqual([
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"city":"Lisbon"}' },
    ]);
    expect(events.find((e) => e.type === "finish")).toMatchObject({
      finishReason: "tool_calls",
      rawFinishReason: "STOP",
    });
    expect(lastCall().body.toolConfig).toEqual({ functionCallingConfig: { mode: "AUTO" } });
  });

  it("sends tool calls and results from history as functionCall and functionResponse turns", async () => {
    const first = await adapter.chat(
      chatRequest({ messages: [user("What is the weather in Lisbon?")], tools: [WEATHER_TOOL] }),
      ctx(),
    );
    const call = first.toolCalls[0]!;
    const response = await adapter.chat(
      chatRequest({
        tools: [WEATHER_TOOL],
        messages: [
          user("What is the weather in Lisbon?"),
          { role: "assistant", content: "", toolCalls: [call] },
          { role: "tool", toolCallId: call.id, content: '{"temperature":21}' },
        ],
      }),
      ctx(),
    );
    expect(response.content).toBe('Tool result: {"temperature":21}');
    expect(lastCall().body.contents).toEqual([
      { role: "user", parts: [{ text: "What is the weather in Lisbon?" }] },
      { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Lisbon" } } }] },
      { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { temperature: 21 } } }] },
    ]);
  });

  it("asks for JSON with a response schema Gemini accepts", async () => {
    const response = await adapter.chat(
      chatRequest({
        messages: [user("json please")],
        responseFormat: {
          type: "json_schema",
          name: "reply",
          schema: {
            $schema: "http://json-schema.org/draft-07/schema#",
            type: "object",
            properties: { reply: { type: "string" } },
            additionalProperties: false,
          },
        },
      }),
      ctx(),
    );
    expect(JSON.parse(response.content)).toEqual({ reply: "You said: json please" });
  });

  it("reports a safety stop as content_filter, in chat and in streams", async () => {
    const response = await adapter.chat(chatRequest({ messages: [user("TRIGGER_CONTENT_FILTER")] }), ctx());
    expect(response).toMatchObject({
      content: "",
      finishReason: "content_filter",
      rawFinishReason: "SAFETY",
    });
    const events = await collect(
      await adapter.chatStream(chatRequest({ messages: [user("TRIGGER_CONTENT_FILTER")] }), ctx()),
    );
    expect(events.find((e) => e.type === "finish")).toEqual({
      type: "finish",
      finishReason: "content_filter",
      rawFinishReason: "SAFETY",
    });
  });

  it("maps Google errors into the taxonomy", async () => {
    const context = await failure(
      adapter.chat(chatRequest({ messages: [user("TRIGGER_CONTEXT_LENGTH")] }), ctx()),
    );
    expect(context.errorClass).toBe("context_length_exceeded");
    expect(context.message).toContain("exceeds the maximum number of tokens allowed");

    const limited = await failure(
      adapter.chat(chatRequest({ messages: [user("TRIGGER_RATE_LIMIT")] }), ctx()),
    );
    expect(limited.errorClass).toBe("rate_limit");
    expect(limited.retryAfterSeconds).toBe(7);

    const missing = await failure(adapter.chat(chatRequest({ model: "gemini-0-unknown" }), ctx()));
    expect(missing.errorClass).toBe("model_not_found");

    fake.faults.push({
      kind: "status",
      status: 503,
      body: { error: { code: 503, message: "The service is currently unavailable.", status: "UNAVAILABLE" } },
    });
    expect((await failure(adapter.chat(chatRequest(), ctx()))).errorClass).toBe("upstream_unavailable");

    fake.faults.push({
      kind: "status",
      status: 504,
      body: {
        error: {
          code: 504,
          message: "Deadline expired before operation could complete.",
          status: "DEADLINE_EXCEEDED",
        },
      },
    });
    expect((await failure(adapter.chat(chatRequest(), ctx()))).errorClass).toBe("timeout");

    fake.faults.push({
      kind: "status",
      status: 403,
      body: {
        error: {
          code: 403,
          message: "Permission denied on resource project x.",
          status: "PERMISSION_DENIED",
        },
      },
    });
    expect((await failure(adapter.chat(chatRequest(), ctx()))).errorClass).toBe("permission");
  });

  it("rejects chatStream itself on an error before the stream starts, so routing can fall back", async () => {
    const err = await failure(
      adapter.chatStream(chatRequest({ messages: [user("TRIGGER_RATE_LIMIT")] }), ctx()),
    );
    expect(err.errorClass).toBe("rate_limit");
  });

  it("throws from the iterator when Vertex aborts a 200 stream with an error object", async () => {
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
    expect(seen[0]).toMatchObject({ type: "text-delta" });
    expect(err.errorClass).toBe("upstream_unavailable");
    expect(err.message).toContain("Internal error encountered");
  });

  it("embeds with :predict, honouring dimensions and reporting token counts", async () => {
    const response = await adapter.embed(
      { model: "text-embedding-005", input: ["alpha", "beta gamma"], dimensions: 8 },
      ctx(),
    );
    expect(response.vectors).toHaveLength(2);
    expect(response.vectors[0]).toHaveLength(8);
    expect(response.vectors[0]).not.toEqual(response.vectors[1]);
    expect(response.usage).toEqual({ inputTokens: Math.ceil(5 / 4) + Math.ceil(10 / 4), estimated: false });
    expect(lastCall().path).toBe(modelPath("google", "text-embedding-005", "predict"));
    expect(lastCall().body).toEqual({
      instances: [{ content: "alpha" }, { content: "beta gamma" }],
      parameters: { outputDimensionality: 8 },
    });
  });

  it("sends gemini-embedding models one text per call and keeps the input order", async () => {
    const inputs = ["one", "two", "three", "four", "five"];
    const batch = await adapter.embed({ model: "gemini-embedding-001", input: inputs, dimensions: 4 }, ctx());
    expect(fake.requests).toHaveLength(inputs.length);
    for (const [i, text] of inputs.entries()) {
      const single = await adapter.embed(
        { model: "gemini-embedding-001", input: [text], dimensions: 4 },
        ctx(),
      );
      expect(batch.vectors[i]).toEqual(single.vectors[0]);
    }
  });

  it("probes with a free countTokens call on a Gemini model", async () => {
    await adapter.probe(ctx());
    expect(lastCall().path).toBe(modelPath("google", GEMINI, "countTokens"));
  });
});

describe("vertex adapter: Claude on Vertex", () => {
  it("calls rawPredict with an Anthropic body that names the Vertex version instead of the model", async () => {
    const response = await adapter.chat(chatRequest({ model: CLAUDE, messages: [user("hi claude")] }), ctx());
    expect(response.content).toBe("You said: hi claude");
    expect(response.finishReason).toBe("stop");
    expect(response.usage!.inputTokens).toBeGreaterThan(0);
    const call = lastCall();
    expect(call.path).toBe(modelPath("anthropic", CLAUDE, "rawPredict"));
    expect(call.body.anthropic_version).toBe("vertex-2023-10-16");
    expect(call.body).not.toHaveProperty("model");
    expect(call.body.max_tokens).toBe(1024);
  });

  it("streams Claude tool calls through streamRawPredict in fragments", async () => {
    const events = await collect(
      await adapter.chatStream(
        chatRequest({
          model: CLAUDE,
          messages: [user("What is the weather in Oslo?")],
          tools: [WEATHER_TOOL],
        }),
        ctx(),
      ),
    );
    expect(lastCall().path).toBe(modelPath("anthropic", CLAUDE, "streamRawPredict"));
    expect(events.find((e) => e.type === "tool-call-start")).toMatchObject({ index: 0, name: "get_weather" });
    const fragments = events
      .filter((e) => e.type === "tool-call-delta")
      .map((e) => (e.type === "tool-call-delta" ? e.argumentsDelta : ""));
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(fragments.join(""))).toEqual({ city: "Oslo" });
    expect(events.find((e) => e.type === "finish")).toMatchObject({ finishReason: "tool_calls" });
  });

  it("maps Anthropic-format errors from the model and Google-format errors from Vertex", async () => {
    const context = await failure(
      adapter.chat(chatRequest({ model: CLAUDE, messages: [user("TRIGGER_CONTEXT_LENGTH")] }), ctx()),
    );
    expect(context.errorClass).toBe("context_length_exceeded");
    const limited = await failure(
      adapter.chat(chatRequest({ model: CLAUDE, messages: [user("TRIGGER_RATE_LIMIT")] }), ctx()),
    );
    expect(limited).toMatchObject({ errorClass: "rate_limit", retryAfterSeconds: 7 });
    fake.faults.push({
      kind: "status",
      status: 429,
      body: {
        error: {
          code: 429,
          message: "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model.",
          status: "RESOURCE_EXHAUSTED",
        },
      },
    });
    expect((await failure(adapter.chat(chatRequest({ model: CLAUDE }), ctx()))).errorClass).toBe(
      "rate_limit",
    );
  });

  it("probes a Claude-only provider with count-tokens", async () => {
    const claudeOnly = createAdapter(
      providerFor(keyCredentials(), [
        { name: "sonnet", upstreamModel: CLAUDE, kind: "chat", supportsTools: true },
      ]),
    );
    await claudeOnly.probe(ctx());
    expect(lastCall().path).toBe(modelPath("anthropic", "count-tokens", "rawPredict"));
    expect(lastCall().body).toMatchObject({ model: CLAUDE, anthropic_version: "vertex-2023-10-16" });
  });
});

describe("vertex adapter: credentials", () => {
  it("fails with an authentication error, without key material, when the key is not the service account's", async () => {
    const stranger = createTestServiceAccount(PROJECT, fake.tokenUrl, "stranger");
    stranger.key.client_email = account.key.client_email;
    const bad = createAdapter(providerFor(keyCredentials(stranger.key)));
    const err = await failure(bad.chat(chatRequest(), ctx()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).not.toContain("PRIVATE KEY");
    expect(err.message).not.toContain(stranger.key.private_key_id);
    expect(fake.requests).toHaveLength(0);
    expect((await failure(bad.probe(ctx()))).errorClass).toBe("authentication");
  });

  it("rejects a Secret that is not a service-account JSON key, without echoing it", async () => {
    const bad = createAdapter(
      providerFor({ mode: "apiKey", apiKey: "AIzaSyNotAServiceAccountKey0123456789" }),
    );
    const err = await failure(bad.chat(chatRequest(), ctx()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toContain("service-account JSON key");
    expect(err.message).not.toContain("AIzaSy");
  });

  it("maps a token Vertex no longer accepts to an authentication error", async () => {
    await adapter.chat(chatRequest(), ctx());
    fake.revokeTokens();
    const err = await failure(adapter.chat(chatRequest(), ctx()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).not.toMatch(/ya29/);
  });

  it("fails clearly when the Secret could not be resolved", async () => {
    const unresolved = createAdapter(
      providerFor({
        mode: "unresolved",
        reason: "SecretNotFound",
        message: 'Secret "vertex-key" not found in namespace "ai"',
      }),
    );
    const err = await failure(unresolved.chat(chatRequest(), ctx()));
    expect(err.errorClass).toBe("upstream_unavailable");
    expect(err.message).toContain('Secret "vertex-key" not found');
  });

  it("uses Application Default Credentials from the metadata server for workloadIdentity (GKE Workload Identity)", async () => {
    const saved = { host: process.env.GCE_METADATA_HOST, file: process.env.GOOGLE_APPLICATION_CREDENTIALS };
    process.env.GCE_METADATA_HOST = fake.metadataHost;
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    try {
      const keyless = createAdapter(providerFor({ mode: "workloadIdentity" }));
      const response = await keyless.chat(chatRequest(), ctx());
      expect(response.content).toBe("You said: Hello there");
      const tokenRequest = fake.authRequests.find((r) =>
        r.url.startsWith("/computeMetadata/v1/instance/service-accounts/default/token"),
      );
      expect(tokenRequest?.headers["metadata-flavor"]).toBe("Google");
      expect(fake.requests.at(-1)!.headers.authorization).toMatch(/^Bearer ya29\./);
    } finally {
      if (saved.host === undefined) delete process.env.GCE_METADATA_HOST;
      else process.env.GCE_METADATA_HOST = saved.host;
      if (saved.file !== undefined) process.env.GOOGLE_APPLICATION_CREDENTIALS = saved.file;
    }
  });
});
