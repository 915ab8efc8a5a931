import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../../src/gateway/canonical/chat.js";
import type { ProviderAdapter } from "../../../src/gateway/providers/provider-adapter.js";
import { createAdapter } from "../../../src/gateway/providers/adapter-registry.js";
import type { CompiledProvider, ResolvedCredentials } from "../../../src/shared/schemas/gateway-config.js";
import { GatewayError } from "../../../src/shared/errors.js";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startBedrockFake } from "../../fakes/bedrock-fake.js";
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
  TEST_TIMEOUTS,
  testProvider,
  triggerCase,
  user,
  WEATHER_TOOL,
} from "./adapter-test-kit.js";

const ACCESS_KEY_ID = "AKIAADAPTERTEST00001";
const SECRET_ACCESS_KEY = "adapter/secret+key/0123456789abcdefghijkl";
const SESSION_TOKEN = "IQoJb3JpZ2luX2VjEadapterSessionToken0123";
const API_KEY = "ABSKYWRhcHRlci10ZXN0LWJlZHJvY2sta2V5";
const REGION = "us-east-1";
const MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0";
const EMBED_MODEL = "amazon.titan-embed-text-v2:0";

let fake: FakeServer;
let sessionFake: FakeServer;
let providerCounter = 0;

function staticKeys(
  secretAccessKey = SECRET_ACCESS_KEY,
  extra: Record<string, string> = {},
): ResolvedCredentials {
  return {
    mode: "apiKey",
    apiKey: JSON.stringify({ accessKeyId: ACCESS_KEY_ID, secretAccessKey, ...extra }),
  };
}

function providerFor(
  url: string,
  credentials: ResolvedCredentials = staticKeys(),
  timeouts?: Partial<CompiledProvider["timeouts"]>,
): CompiledProvider {
  return testProvider({
    // A fresh id per adapter so each test gets its own cached SDK client.
    id: `ai/bedrock-${++providerCounter}`,
    name: "bedrock",
    type: "bedrock",
    endpoint: url,
    region: REGION,
    credentials,
    models: [
      { name: "haiku", upstreamModel: MODEL, kind: "chat", supportsTools: true },
      { name: "titan", upstreamModel: EMBED_MODEL, kind: "embedding", dimensions: 512, supportsTools: false },
    ],
    timeouts: { ...TEST_TIMEOUTS, ...timeouts },
    healthCheck: { intervalMs: 30_000, timeoutMs: 5_000, probe: "completion" },
  });
}

const chatRequest = chatRequestFor(MODEL);
const lastBody = () => lastJson(fake);

let adapter: ProviderAdapter;

beforeAll(async () => {
  fake = await startBedrockFake({
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    region: REGION,
    apiKey: API_KEY,
  });
  sessionFake = await startBedrockFake({
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    sessionToken: SESSION_TOKEN,
    region: REGION,
  });
});
afterAll(async () => {
  await fake.close();
  await sessionFake.close();
});
beforeEach(() => {
  adapter = createAdapter(providerFor(fake.url));
  resetFake(fake);
});

describe("bedrock adapter: chat", () => {
  it("maps a request to Converse and the answer back, with usage", async () => {
    const response = await adapter.chat(
      chatRequest({
        messages: [{ role: "system", content: "Be brief." }, user("Hello there")],
        maxTokens: 50,
        temperature: 0.2,
        topP: 0.9,
        stop: ["END"],
      }),
      callContext(),
    );
    expect(response).toMatchObject({
      model: MODEL,
      content: "You said: Hello there",
      toolCalls: [],
      finishReason: "stop",
      rawFinishReason: "end_turn",
      usage: { inputTokens: 4, outputTokens: 4, estimated: false },
    });
    expect(fake.requests[0]!.url).toBe(`/model/${encodeURIComponent(MODEL)}/converse`);
    expect(lastBody()).toEqual({
      messages: [{ role: "user", content: [{ text: "Hello there" }] }],
      system: [{ text: "Be brief." }],
      inferenceConfig: { maxTokens: 50, temperature: 0.2, topP: 0.9, stopSequences: ["END"] },
    });
  });

  it("returns tool calls with JSON arguments and finish reason tool_calls", async () => {
    const response = await adapter.chat(
      chatRequest({ messages: [user("What's the weather in Paris?")], tools: [WEATHER_TOOL] }),
      callContext(),
    );
    expect(response.finishReason).toBe("tool_calls");
    expect(response.rawFinishReason).toBe("tool_use");
    expect(response.toolCalls).toHaveLength(1);
    expect(response.toolCalls[0]).toMatchObject({ name: "get_weather" });
    expect(JSON.parse(response.toolCalls[0]!.arguments)).toEqual({ city: "Paris" });
    expect(lastBody().toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: "get_weather",
            description: "Current weather for a city",
            inputSchema: { json: WEATHER_TOOL.parameters },
          },
        },
      ],
    });
  });

  it("sends tool history Bedrock accepts: parallel tool results merged into one user turn", async () => {
    const response = await adapter.chat(
      chatRequest({ messages: parallelToolHistory("tooluse_"), tools: [WEATHER_TOOL] }),
      callContext(),
    );
    expect(response.content).toBe("Tool result: Oslo: 5C Rome: 20C");
    const sent = lastBody().messages as Array<{ role: string; content: unknown[] }>;
    expect(sent.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(sent[2]!.content).toHaveLength(2);
  });

  it("synthesizes a toolConfig when history holds tool use but the request has no tools", async () => {
    const messages: ChatMessage[] = [
      user("weather?"),
      {
        role: "assistant",
        content: "Checking.",
        toolCalls: [{ id: "tooluse_a", name: "get_weather", arguments: '{"city":"Oslo"}' }],
      },
      { role: "tool", toolCallId: "tooluse_a", content: "Oslo: 5C" },
      user("Thanks, and now say hi"),
    ];
    const response = await adapter.chat(chatRequest({ messages, toolChoice: "none" }), callContext());
    expect(response.content).toBe("You said: Thanks, and now say hi");
    const toolConfig = lastBody().toolConfig as { tools: Array<{ toolSpec: { name: string } }> };
    expect(toolConfig.tools.map((t) => t.toolSpec.name)).toEqual(["get_weather"]);
  });

  it("reports a guardrail intervention as finish reason content_filter, in chat and in streams", async () => {
    await expectFinishReason(
      adapter,
      chatRequest({ messages: [user("TRIGGER_CONTENT_FILTER")] }),
      "content_filter",
      "guardrail_intervened",
    );
  });

  it("maps max_tokens to finish reason length, in chat and in streams", async () => {
    const request = chatRequest({ messages: [user("one two three four")], maxTokens: 2 });
    await expectFinishReason(adapter, request, "length", "max_tokens");
  });
});

describe("bedrock adapter: streaming", () => {
  it("streams text deltas, then finish, then usage", async () => {
    const events = await collectStream(
      await adapter.chatStream(chatRequest({ messages: [user("stream this please")] }), callContext()),
    );
    const text = events.filter((e) => e.type === "text-delta");
    expect(text.length).toBeGreaterThanOrEqual(2);
    expect(text.map((e) => e.text).join("")).toBe("You said: stream this please");
    expect(events.slice(-2)).toEqual([
      { type: "finish", finishReason: "stop", rawFinishReason: "end_turn" },
      { type: "usage", usage: { inputTokens: 3, outputTokens: 5, estimated: false } },
    ]);
    expect(fake.requests[0]!.url).toBe(`/model/${encodeURIComponent(MODEL)}/converse-stream`);
  });

  it("streams a tool call as tool-call-start at index 0 and argument fragments", async () => {
    const events = await collectStream(
      await adapter.chatStream(
        chatRequest({ messages: [user("weather in Lisbon?")], tools: [WEATHER_TOOL] }),
        callContext(),
      ),
    );
    expectStreamedToolCall(events, { city: "Lisbon" }, "tool_use", { idPrefix: "tooluse_" });
  });

  it("rejects chatStream when a 200 stream starts with an exception frame, so routing can fall back", async () => {
    const err = await expectGatewayError(
      adapter.chatStream(chatRequest({ messages: [user("TRIGGER_EARLY_STREAM_ERROR")] }), callContext()),
      "upstream_unavailable",
    );
    expect(err.message).toMatch(/unable to process your request/);
  });

  it("throws a GatewayError from the iterator for an exception frame after content", async () => {
    const stream = await adapter.chatStream(
      chatRequest({ messages: [user("TRIGGER_STREAM_ERROR")] }),
      callContext(),
    );
    const { seen, error } = await expectStreamFailure(stream, "upstream_unavailable");
    expect(error.message).toMatch(/Model stream error/);
    expect(seen[0]).toEqual({ type: "text-delta", text: expect.any(String) });
  });

  it("fails the stream on a frame with a bad CRC instead of parsing it", async () => {
    const stream = await adapter.chatStream(
      chatRequest({ messages: [user("TRIGGER_CORRUPT_FRAME")] }),
      callContext(),
    );
    const { seen, error } = await expectStreamFailure(stream, "upstream_unavailable");
    expect(error.message).toMatch(/checksum/i);
    expect(seen).toEqual([]);
  });
});

describe("bedrock adapter: embeddings", () => {
  it("embeds each input with Titan v2, in order, with the configured dimensions and summed usage", async () => {
    const inputs = ["first text", "second one here", "third"];
    const response = await adapter.embed({ model: EMBED_MODEL, input: inputs }, callContext());
    expect(response.vectors).toHaveLength(3);
    expect(response.vectors.every((v) => v.length === 512)).toBe(true);
    expect(response.usage).toEqual({ inputTokens: 6, estimated: false });
    const single = await adapter.embed({ model: EMBED_MODEL, input: ["second one here"] }, callContext());
    expect(single.vectors[0]).toEqual(response.vectors[1]);
    const bodies = fake.requests.map(
      (r) => r.json as { inputText: string; dimensions: number; normalize: boolean },
    );
    expect(bodies.map((b) => b.inputText).sort()).toEqual([...inputs, "second one here"].sort());
    expect(bodies.every((b) => b.dimensions === 512 && b.normalize === true)).toBe(true);
    expect(fake.requests[0]!.url).toBe("/model/amazon.titan-embed-text-v2%3A0/invoke");
  });

  it("honours requested dimensions and maps Titan's errors", async () => {
    const response = await adapter.embed(
      { model: EMBED_MODEL, input: ["x"], dimensions: 256 },
      callContext(),
    );
    expect(response.vectors[0]).toHaveLength(256);
    await expectGatewayError(
      adapter.embed({ model: EMBED_MODEL, input: ["x"], dimensions: 300 }, callContext()),
      "invalid_request",
    );
    await expectGatewayError(
      adapter.embed({ model: EMBED_MODEL, input: ["ok", "TRIGGER_CONTEXT_LENGTH"] }, callContext()),
      "context_length_exceeded",
    );
    await expectGatewayError(
      adapter.embed({ model: EMBED_MODEL, input: ["TRIGGER_RATE_LIMIT"] }, callContext()),
      "rate_limit",
    );
  });

  it("refuses embedding models it cannot speak to before calling Bedrock", async () => {
    await expectGatewayError(
      adapter.embed({ model: "cohere.embed-english-v3", input: ["x"] }, callContext()),
      "invalid_request",
    );
    expect(fake.requests).toHaveLength(0);
  });
});

describe("bedrock adapter: errors", () => {
  const provider = expect.stringMatching(/^bedrock provider ai\/bedrock-/);
  itMapsErrorClasses(
    { adapter: () => adapter, fake: () => fake, request: (text) => chatRequest({ messages: [user(text)] }) },
    [
      triggerCase("TRIGGER_RATE_LIMIT", { provider }),
      triggerCase("TRIGGER_CONTEXT_LENGTH", { provider }),
      {
        name: "an invalid model id",
        request: { model: "acme.nonexistent-v1" },
        errorClass: "model_not_found",
      },
      {
        name: "a retired model",
        request: { model: "anthropic.claude-retired-v1" },
        errorClass: "model_not_found",
        expected: { upstreamStatus: 404 },
      },
      { name: "a validation error", request: { maxTokens: 0 }, errorClass: "invalid_request" },
      {
        name: "ServiceUnavailableException (503)",
        fault: {
          kind: "status",
          status: 503,
          body: { message: "Bedrock is unable to process your request." },
          headers: { "x-amzn-errortype": "ServiceUnavailableException" },
        },
        errorClass: "upstream_unavailable",
      },
      { name: "a reset connection", fault: { kind: "reset" }, errorClass: "upstream_unavailable" },
      {
        name: "ThrottlingException with Retry-After",
        fault: {
          kind: "status",
          status: 429,
          body: { message: "Too many requests, please wait before trying again." },
          headers: { "x-amzn-errortype": "ThrottlingException", "retry-after": "7" },
        },
        errorClass: "rate_limit",
        expected: { retryAfterSeconds: 7 },
      },
    ],
  );

  it("refuses remote image URLs itself, without calling Bedrock", async () => {
    await expectGatewayError(
      adapter.chat(
        chatRequest({
          messages: [{ role: "user", content: [{ type: "image", url: "https://example.com/cat.png" }] }],
        }),
        callContext(),
      ),
      "invalid_request",
    );
    expect(fake.requests).toHaveLength(0);
  });

  it("sends base64 images as image blocks", async () => {
    const png = Buffer.from("fake-png-bytes").toString("base64");
    await adapter.chat(
      chatRequest({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "look" },
              { type: "image", url: `data:image/png;base64,${png}` },
            ],
          },
        ],
      }),
      callContext(),
    );
    expect((lastBody().messages as Array<{ content: unknown[] }>)[0]!.content[1]).toEqual({
      image: { format: "png", source: { bytes: png } },
    });
  });

  it("times out when the upstream does not answer before the first-token deadline", async () => {
    const slow = createAdapter(providerFor(fake.url, staticKeys(), { firstTokenMs: 300 }));
    fake.faults.push({ kind: "hang" });
    await expectGatewayError(slow.chat(chatRequest(), callContext()), "timeout");
  });

  it("stops when the call is cancelled", async () => {
    fake.faults.push({ kind: "hang" });
    const controller = new AbortController();
    const pending = adapter.chat(chatRequest(), callContext({ signal: controller.signal }));
    setTimeout(() => controller.abort(new GatewayError("timeout", "total deadline passed")), 100);
    const err = await expectGatewayError(pending);
    expect([err.errorClass, err.message]).toEqual(["timeout", "total deadline passed"]);
  });
});

describe("bedrock adapter: credentials", () => {
  it("maps a wrong secret key to authentication without echoing any secret", async () => {
    const wrongSecret = "wrong/secret+key/0123456789abcdefghijklmn";
    const [chatError] = await expectCredentialsRejected(
      createAdapter(providerFor(fake.url, staticKeys(wrongSecret))),
      { chat: chatRequest(), embed: { model: EMBED_MODEL, input: ["x"] } },
      [wrongSecret, ACCESS_KEY_ID],
    );
    expect(chatError!.message).toContain("InvalidSignatureException");
  });

  it("authenticates with a Bedrock API key as a bearer token, and maps a wrong key to authentication", async () => {
    const keyed = createAdapter(providerFor(fake.url, { mode: "apiKey", apiKey: API_KEY }));
    expect((await keyed.chat(chatRequest(), callContext())).content).toBe("You said: Hello there");
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    const wrongKey = "ABSKd3Jvbmcta2V5LWZvci1iZWRyb2Nr";
    await expectCredentialsRejected(
      createAdapter(providerFor(fake.url, { mode: "apiKey", apiKey: wrongKey })),
      { chat: chatRequest() },
      [wrongKey],
    );
  });

  it("signs with temporary credentials (session token) from the Secret", async () => {
    const temp = createAdapter(
      providerFor(sessionFake.url, staticKeys(SECRET_ACCESS_KEY, { sessionToken: SESSION_TOKEN })),
    );
    expect((await temp.chat(chatRequest(), callContext())).content).toBe("You said: Hello there");
    expect(sessionFake.requests.at(-1)!.headers["x-amz-security-token"]).toBe(SESSION_TOKEN);
    await expectGatewayError(
      createAdapter(providerFor(sessionFake.url)).chat(chatRequest(), callContext()),
      "authentication",
    );
  });

  it("fails clearly, without calling Bedrock, when the credentials are unresolved or malformed", async () => {
    await expectUnresolvedCredentials(
      (credentials) => createAdapter(providerFor(fake.url, credentials)),
      chatRequest(),
      fake,
      "Secret ai/aws not found",
    );
    const malformed = createAdapter(
      providerFor(fake.url, { mode: "apiKey", apiKey: '{"accessKeyId":"AKIA"}' }),
    );
    expect((await expectGatewayError(malformed.chat(chatRequest(), callContext()))).message).toMatch(
      /accessKeyId.*secretAccessKey/,
    );
    expect(fake.requests).toHaveLength(0);
  });
});

describe("bedrock adapter: probe", () => {
  it("makes a one-token Converse call on the first chat model", async () => {
    await adapter.probe(callContext());
    expect(fake.requests[0]!.url).toBe(`/model/${encodeURIComponent(MODEL)}/converse`);
    expect((fake.requests[0]!.json as { inferenceConfig: unknown }).inferenceConfig).toEqual({
      maxTokens: 1,
    });
  });
});
