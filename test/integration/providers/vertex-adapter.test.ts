import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ProviderAdapter } from "../../../src/gateway/providers/provider-adapter.js";
import { createAdapter } from "../../../src/gateway/providers/adapter-registry.js";
import type { CompiledProvider, ResolvedCredentials } from "../../../src/shared/schemas/gateway-config.js";
import {
  createTestServiceAccount,
  startVertexFake,
  type TestServiceAccount,
  type VertexFake,
} from "../../fakes/vertex-fake.js";
import type { Fault } from "../../fakes/fake-http-server.js";
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
  resetFake,
  testProvider,
  triggerCase,
  user,
  WEATHER_TOOL as STRICT_WEATHER_TOOL,
} from "./adapter-test-kit.js";

const PROJECT = "switchboard-test";
const REGION = "us-east5";
const GEMINI = "gemini-2.5-flash";
const CLAUDE = "claude-sonnet-4-5@20250929";
// additionalProperties is outside Gemini's schema subset: the adapter must strip it.
const WEATHER_TOOL = {
  ...STRICT_WEATHER_TOOL,
  parameters: { ...STRICT_WEATHER_TOOL.parameters, additionalProperties: false },
};

let fake: VertexFake;
let account: TestServiceAccount;
let adapter: ProviderAdapter;

function providerFor(
  credentials: ResolvedCredentials,
  models: CompiledProvider["models"] = defaultModels(),
): CompiledProvider {
  return testProvider({
    id: "ai/vertex",
    type: "vertex",
    endpoint: fake.url,
    region: REGION,
    project: PROJECT,
    credentials,
    models,
  });
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

const chatRequest = chatRequestFor(GEMINI);

const googleError = (code: number, status: string, message: string): Fault => ({
  kind: "status",
  status: code,
  body: { error: { code, message, status } },
});

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
  resetFake(fake);
  fake.authRequests.length = 0;
});

describe("vertex adapter: Gemini", () => {
  it("answers a chat with a service-account token at the exact generateContent path", async () => {
    const response = await adapter.chat(
      chatRequest({
        messages: [{ role: "system", content: "Be brief." }, user("Hello there")],
        maxTokens: 50,
        temperature: 0.2,
      }),
      callContext(),
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

  it("takes spec.endpoint with or without /v1", async () => {
    const withVersion = createAdapter({ ...providerFor(keyCredentials()), endpoint: `${fake.url}/v1/` });
    const response = await withVersion.chat(chatRequest({ messages: [user("hi")] }), callContext());
    expect(response.content).toBe("You said: hi");
    expect(lastCall().path).toBe(modelPath("google", GEMINI, "generateContent"));
  });

  it("reuses the access token across calls instead of fetching one per request", async () => {
    await adapter.chat(chatRequest(), callContext());
    await adapter.chat(chatRequest(), callContext());
    await collectStream(await adapter.chatStream(chatRequest(), callContext()));
    expect(fake.authRequests.filter((r) => r.url === "/token")).toHaveLength(1);
  });

  it("maps MAX_TOKENS to length, in chat and in streams", async () => {
    await expectFinishReason(adapter, chatRequest({ maxTokens: 2 }), "length", "MAX_TOKENS");
  });

  it("streams text over SSE (alt=sse) with one finish and usage", async () => {
    const events = await collectStream(
      await adapter.chatStream(chatRequest({ messages: [user("stream a few words back")] }), callContext()),
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
      callContext(),
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
    const events = await collectStream(
      await adapter.chatStream(
        chatRequest({
          messages: [user("What is the weather in Lisbon?")],
          tools: [WEATHER_TOOL],
          toolChoice: "auto",
        }),
        callContext(),
      ),
    );
    expectStreamedToolCall(events, { city: "Lisbon" }, "STOP", { idPrefix: "call_", minFragments: 1 });
    expect(events.filter((e) => e.type === "tool-call-delta")).toEqual([
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"city":"Lisbon"}' },
    ]);
    expect(lastCall().body.toolConfig).toEqual({ functionCallingConfig: { mode: "AUTO" } });
  });

  it("sends tool calls and results from history as functionCall and functionResponse turns", async () => {
    const first = await adapter.chat(
      chatRequest({ messages: [user("What is the weather in Lisbon?")], tools: [WEATHER_TOOL] }),
      callContext(),
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
      callContext(),
    );
    expect(response.content).toBe('Tool result: {"temperature":21}');
    expect(lastCall().body.contents).toEqual([
      { role: "user", parts: [{ text: "What is the weather in Lisbon?" }] },
      {
        role: "model",
        // The signature Gemini put on the call goes back with it.
        parts: [
          {
            functionCall: { name: "get_weather", args: { city: "Lisbon" } },
            thoughtSignature: call.signature!.value,
          },
        ],
      },
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
      callContext(),
    );
    expect(JSON.parse(response.content)).toEqual({ reply: "You said: json please" });
  });

  it("reports a safety stop as content_filter, in chat and in streams", async () => {
    const request = chatRequest({ messages: [user("TRIGGER_CONTENT_FILTER")] });
    await expectFinishReason(adapter, request, "content_filter", "SAFETY");
    expect((await adapter.chat(request, callContext())).content).toBe("");
  });

  itMapsErrorClasses(
    { adapter: () => adapter, fake: () => fake, request: (text) => chatRequest({ messages: [user(text)] }) },
    [
      triggerCase("TRIGGER_CONTEXT_LENGTH", {
        message: expect.stringContaining("exceeds the maximum number of tokens allowed"),
      }),
      triggerCase("TRIGGER_RATE_LIMIT", { retryAfterSeconds: 7 }),
      { name: "an unknown model", request: { model: "gemini-0-unknown" }, errorClass: "model_not_found" },
      {
        name: "UNAVAILABLE (503)",
        fault: googleError(503, "UNAVAILABLE", "The service is currently unavailable."),
        errorClass: "upstream_unavailable",
      },
      {
        name: "DEADLINE_EXCEEDED (504)",
        fault: googleError(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
        errorClass: "timeout",
      },
      {
        name: "PERMISSION_DENIED (403)",
        fault: googleError(403, "PERMISSION_DENIED", "Permission denied on resource project x."),
        errorClass: "permission",
      },
    ],
  );

  it("throws from the iterator when Vertex aborts a 200 stream with an error object", async () => {
    const stream = await adapter.chatStream(
      chatRequest({ messages: [user("TRIGGER_STREAM_ERROR please")] }),
      callContext(),
    );
    const { seen, error } = await expectStreamFailure(stream, "upstream_unavailable");
    expect(seen[0]).toMatchObject({ type: "text-delta" });
    expect(error.message).toContain("Internal error encountered");
  });

  it("embeds with :predict, honouring dimensions and reporting token counts", async () => {
    const response = await adapter.embed(
      { model: "text-embedding-005", input: ["alpha", "beta gamma"], dimensions: 8 },
      callContext(),
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
    const batch = await adapter.embed(
      { model: "gemini-embedding-001", input: inputs, dimensions: 4 },
      callContext(),
    );
    expect(fake.requests).toHaveLength(inputs.length);
    for (const [i, text] of inputs.entries()) {
      const single = await adapter.embed(
        { model: "gemini-embedding-001", input: [text], dimensions: 4 },
        callContext(),
      );
      expect(batch.vectors[i]).toEqual(single.vectors[0]);
    }
  });

  it("probes with a free countTokens call on a Gemini model", async () => {
    await adapter.probe(callContext());
    expect(lastCall().path).toBe(modelPath("google", GEMINI, "countTokens"));
  });
});

describe("vertex adapter: Claude on Vertex", () => {
  it("calls rawPredict with an Anthropic body that names the Vertex version instead of the model", async () => {
    const response = await adapter.chat(
      chatRequest({ model: CLAUDE, messages: [user("hi claude")] }),
      callContext(),
    );
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
    const events = await collectStream(
      await adapter.chatStream(
        chatRequest({
          model: CLAUDE,
          messages: [user("What is the weather in Oslo?")],
          tools: [WEATHER_TOOL],
        }),
        callContext(),
      ),
    );
    expect(lastCall().path).toBe(modelPath("anthropic", CLAUDE, "streamRawPredict"));
    expectStreamedToolCall(events, { city: "Oslo" }, "tool_use");
  });

  describe("maps Anthropic-format errors from the model and Google-format errors from Vertex", () => {
    itMapsErrorClasses(
      {
        adapter: () => adapter,
        fake: () => fake,
        request: (text) => chatRequest({ model: CLAUDE, messages: [user(text)] }),
      },
      [
        triggerCase("TRIGGER_CONTEXT_LENGTH"),
        triggerCase("TRIGGER_RATE_LIMIT", { retryAfterSeconds: 7 }),
        {
          name: "Vertex's RESOURCE_EXHAUSTED quota error",
          fault: googleError(
            429,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model.",
          ),
          errorClass: "rate_limit",
        },
      ],
    );
  });

  it("probes a Claude-only provider with count-tokens", async () => {
    const claudeOnly = createAdapter(
      providerFor(keyCredentials(), [
        { name: "sonnet", upstreamModel: CLAUDE, kind: "chat", supportsTools: true },
      ]),
    );
    await claudeOnly.probe(callContext());
    expect(lastCall().path).toBe(modelPath("anthropic", "count-tokens", "rawPredict"));
    expect(lastCall().body).toMatchObject({ model: CLAUDE, anthropic_version: "vertex-2023-10-16" });
  });
});

describe("vertex adapter: credentials", () => {
  it("fails with an authentication error, without key material, when the key is not the service account's", async () => {
    const stranger = createTestServiceAccount(PROJECT, fake.tokenUrl, "stranger");
    stranger.key.client_email = account.key.client_email;
    await expectCredentialsRejected(
      createAdapter(providerFor(keyCredentials(stranger.key))),
      { chat: chatRequest(), embed: { model: "text-embedding-005", input: ["x"] } },
      ["PRIVATE KEY", stranger.key.private_key_id],
    );
    expect(fake.requests).toHaveLength(0);
  });

  it("rejects a Secret that is not a service-account JSON key, without echoing it", async () => {
    const bad = createAdapter(
      providerFor({ mode: "apiKey", apiKey: "AIzaSyNotAServiceAccountKey0123456789" }),
    );
    const [chatError] = await expectCredentialsRejected(bad, { chat: chatRequest() }, ["AIzaSy"]);
    expect(chatError!.message).toContain("service-account JSON key");
  });

  it("maps a token Vertex no longer accepts to an authentication error", async () => {
    await adapter.chat(chatRequest(), callContext());
    fake.revokeTokens();
    const err = await expectGatewayError(adapter.chat(chatRequest(), callContext()), "authentication");
    expect(err.message).not.toMatch(/ya29/);
  });

  it("fails clearly when the Secret could not be resolved", async () => {
    await expectUnresolvedCredentials(
      (credentials) => createAdapter(providerFor(credentials)),
      chatRequest(),
      fake,
      'Secret "vertex-key" not found in namespace "ai"',
    );
  });

  it("uses Application Default Credentials from the metadata server for workloadIdentity (GKE Workload Identity)", async () => {
    const saved = { host: process.env.GCE_METADATA_HOST, file: process.env.GOOGLE_APPLICATION_CREDENTIALS };
    process.env.GCE_METADATA_HOST = fake.metadataHost;
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    try {
      const keyless = createAdapter(providerFor({ mode: "workloadIdentity" }));
      const response = await keyless.chat(chatRequest(), callContext());
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
