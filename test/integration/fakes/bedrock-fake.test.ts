import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  type ConverseStreamOutput,
  type Message,
} from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startBedrockFake } from "../../fakes/bedrock-fake.js";

const ACCESS_KEY_ID = "AKIAFAKEBEDROCK00001";
const SECRET_ACCESS_KEY = "fake/secret+access/key0123456789abcdefgh";
const API_KEY = "ABSKZmFrZS1iZWRyb2NrLWFwaS1rZXk=";
const REGION = "eu-central-1";
const MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0";
const WEATHER_TOOL = {
  toolSpec: {
    name: "get_weather",
    description: "Weather for a city",
    inputSchema: { json: { type: "object", properties: { city: { type: "string" } } } },
  },
};

let fake: FakeServer;

function client(
  overrides: { secretAccessKey?: string; accessKeyId?: string; region?: string; apiKey?: string } = {},
): BedrockRuntimeClient {
  const auth = overrides.apiKey
    ? { token: { token: overrides.apiKey }, authSchemePreference: ["httpBearerAuth"] }
    : {
        credentials: {
          accessKeyId: overrides.accessKeyId ?? ACCESS_KEY_ID,
          secretAccessKey: overrides.secretAccessKey ?? SECRET_ACCESS_KEY,
        },
      };
  // The SDK defaults to HTTP/2; the fake (like Bedrock for these operations) speaks HTTP/1.1.
  return new BedrockRuntimeClient({
    region: overrides.region ?? REGION,
    endpoint: fake.url,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler(),
    ...auth,
  });
}

function user(text: string): Message {
  return { role: "user", content: [{ text }] };
}

async function rejection(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; $metadata: { httpStatusCode?: number } }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as { name: string; message: string; $metadata: { httpStatusCode?: number } };
}

async function collect(stream: AsyncIterable<ConverseStreamOutput>): Promise<ConverseStreamOutput[]> {
  const events: ConverseStreamOutput[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

beforeAll(async () => {
  fake = await startBedrockFake({
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    region: REGION,
    apiKey: API_KEY,
  });
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.requests.length = 0;
  fake.faults.length = 0;
});

describe("bedrock fake: SigV4 and API keys", () => {
  it("answers a SigV4-signed Converse request at /model/{modelId}/converse", async () => {
    const out = await client().send(new ConverseCommand({ modelId: MODEL, messages: [user("Hello there")] }));
    expect(out.output?.message?.content).toEqual([{ text: "You said: Hello there" }]);
    expect(out.stopReason).toBe("end_turn");
    expect(out.usage).toMatchObject({ inputTokens: 2, outputTokens: 4, totalTokens: 6 });
    const recorded = fake.requests[0]!;
    expect(recorded.url).toBe(`/model/${encodeURIComponent(MODEL)}/converse`);
    expect(String(recorded.headers.authorization)).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY_ID}/\\d{8}/${REGION}/bedrock/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$`,
      ),
    );
  });

  it("rejects a request signed with the wrong secret key, as InvalidSignatureException", async () => {
    const err = await rejection(
      client({ secretAccessKey: "not-the-right-secret-key-000000000000000" }).send(
        new ConverseCommand({ modelId: MODEL, messages: [user("hi")] }),
      ),
    );
    expect(err.name).toBe("InvalidSignatureException");
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toMatch(
      /^The request signature we calculated does not match the signature you provided/,
    );
  });

  it("rejects an unknown access key id as UnrecognizedClientException", async () => {
    const err = await rejection(
      client({ accessKeyId: "AKIAUNKNOWNKEY000000" }).send(
        new ConverseCommand({ modelId: MODEL, messages: [user("hi")] }),
      ),
    );
    expect(err.name).toBe("UnrecognizedClientException");
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toBe("The security token included in the request is invalid.");
  });

  it("rejects credentials scoped to another region", async () => {
    const err = await rejection(
      client({ region: "us-west-2" }).send(new ConverseCommand({ modelId: MODEL, messages: [user("hi")] })),
    );
    expect(err.name).toBe("InvalidSignatureException");
  });

  it("recomputes the signature over the received body: a replay with another body is refused", async () => {
    await client().send(new ConverseCommand({ modelId: MODEL, messages: [user("original")] }));
    const original = fake.requests[0]!;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(original.headers)) {
      if (typeof value === "string" && !["connection", "content-length"].includes(name))
        headers[name] = value;
    }
    const replay = (body: string) => fetch(`${fake.url}${original.url}`, { method: "POST", headers, body });
    const same = await replay(original.body);
    expect(same.status).toBe(200);
    const tampered = await replay(original.body.replace("original", "tampered"));
    expect(tampered.status).toBe(403);
    expect(tampered.headers.get("x-amzn-errortype")).toBe("InvalidSignatureException");
    expect(((await tampered.json()) as { message: string }).message).toMatch(
      /signature we calculated does not match/,
    );
  });

  it("accepts a Bedrock API key as a bearer token and refuses a wrong one", async () => {
    const out = await client({ apiKey: API_KEY }).send(
      new ConverseCommand({ modelId: MODEL, messages: [user("with a key")] }),
    );
    expect(out.output?.message?.content?.[0]?.text).toBe("You said: with a key");
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    const err = await rejection(
      client({ apiKey: "ABSKd3Jvbmcta2V5" }).send(
        new ConverseCommand({ modelId: MODEL, messages: [user("hi")] }),
      ),
    );
    expect(err.name).toBe("AccessDeniedException");
    expect(err.$metadata.httpStatusCode).toBe(403);
  });
});

describe("bedrock fake: Converse", () => {
  it("calls a tool when tools are offered and the user asks about the weather", async () => {
    const out = await client().send(
      new ConverseCommand({
        modelId: MODEL,
        messages: [user("What is the weather in Paris?")],
        toolConfig: { tools: [WEATHER_TOOL] },
      }),
    );
    expect(out.stopReason).toBe("tool_use");
    const toolUse = out.output?.message?.content?.find((b) => b.toolUse)?.toolUse;
    expect(toolUse).toMatchObject({ name: "get_weather", input: { city: "Paris" } });
    expect(toolUse?.toolUseId).toMatch(/^tooluse_/);
  });

  it("enforces Bedrock's conversation rules: toolConfig with tool history, alternating roles, no blank text", async () => {
    const history: Message[] = [
      user("weather?"),
      {
        role: "assistant",
        content: [{ toolUse: { toolUseId: "t1", name: "get_weather", input: { city: "Oslo" } } }],
      },
      { role: "user", content: [{ toolResult: { toolUseId: "t1", content: [{ text: "5C" }] } }] },
    ];
    const noConfig = await rejection(
      client().send(new ConverseCommand({ modelId: MODEL, messages: history })),
    );
    expect(noConfig.name).toBe("ValidationException");
    expect(noConfig.message).toBe(
      "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
    );

    const ok = await client().send(
      new ConverseCommand({ modelId: MODEL, messages: history, toolConfig: { tools: [WEATHER_TOOL] } }),
    );
    expect(ok.output?.message?.content?.[0]?.text).toBe("Tool result: 5C");

    const twoUsers = await rejection(
      client().send(new ConverseCommand({ modelId: MODEL, messages: [user("a"), user("b")] })),
    );
    expect(twoUsers.message).toMatch(/must alternate between user and assistant/);

    const blank = await rejection(
      client().send(
        new ConverseCommand({ modelId: MODEL, messages: [{ role: "user", content: [{ text: " " }] }] }),
      ),
    );
    expect(blank.message).toMatch(/is blank/);
  });

  it("honours maxTokens and stop sequences", async () => {
    const short = await client().send(
      new ConverseCommand({
        modelId: MODEL,
        messages: [user("one two three four")],
        inferenceConfig: { maxTokens: 2 },
      }),
    );
    expect(short.stopReason).toBe("max_tokens");
    expect(short.output?.message?.content?.[0]?.text).toBe("You said:");
    const stopped = await client().send(
      new ConverseCommand({
        modelId: MODEL,
        messages: [user("alpha beta")],
        inferenceConfig: { stopSequences: ["beta"] },
      }),
    );
    expect(stopped.stopReason).toBe("stop_sequence");
  });

  it("returns Bedrock's error shapes for the trigger words and bad model ids", async () => {
    const throttled = await rejection(
      client().send(new ConverseCommand({ modelId: MODEL, messages: [user("TRIGGER_RATE_LIMIT")] })),
    );
    expect([throttled.name, throttled.$metadata.httpStatusCode]).toEqual(["ThrottlingException", 429]);
    const tooLong = await rejection(
      client().send(new ConverseCommand({ modelId: MODEL, messages: [user("TRIGGER_CONTEXT_LENGTH")] })),
    );
    expect([tooLong.name, tooLong.$metadata.httpStatusCode, tooLong.message]).toEqual([
      "ValidationException",
      400,
      "Input is too long for requested model.",
    ]);
    const invalidId = await rejection(
      client().send(new ConverseCommand({ modelId: "acme.nonexistent-v1", messages: [user("hi")] })),
    );
    expect([invalidId.name, invalidId.message]).toEqual([
      "ValidationException",
      "The provided model identifier is invalid.",
    ]);
    const retired = await rejection(
      client().send(new ConverseCommand({ modelId: "anthropic.claude-retired-v1", messages: [user("hi")] })),
    );
    expect([retired.name, retired.$metadata.httpStatusCode]).toEqual(["ResourceNotFoundException", 404]);
  });

  it("reports a guardrail intervention for TRIGGER_CONTENT_FILTER", async () => {
    const out = await client().send(
      new ConverseCommand({ modelId: MODEL, messages: [user("TRIGGER_CONTENT_FILTER")] }),
    );
    expect(out.stopReason).toBe("guardrail_intervened");
  });

  it("keeps the shared fault contract: an injected fault answers first", async () => {
    fake.faults.push({
      kind: "status",
      status: 503,
      body: { message: "Bedrock is unable to process your request." },
      headers: { "x-amzn-errortype": "ServiceUnavailableException" },
    });
    const err = await rejection(
      client().send(new ConverseCommand({ modelId: MODEL, messages: [user("hi")] })),
    );
    expect([err.name, err.$metadata.httpStatusCode]).toEqual(["ServiceUnavailableException", 503]);
  });
});

describe("bedrock fake: ConverseStream event-stream framing", () => {
  it("streams text deltas, messageStop and usage metadata as event frames", async () => {
    const out = await client().send(
      new ConverseStreamCommand({ modelId: MODEL, messages: [user("stream this please")] }),
    );
    const events = await collect(out.stream!);
    expect(events[0]).toEqual({ messageStart: { role: "assistant" } });
    const text = events.flatMap((e) =>
      e.contentBlockDelta?.delta?.text ? [e.contentBlockDelta.delta.text] : [],
    );
    expect(text.length).toBeGreaterThanOrEqual(2);
    expect(text.join("")).toBe("You said: stream this please");
    expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe("end_turn");
    expect(events.at(-1)?.metadata?.usage).toMatchObject({ inputTokens: 3, outputTokens: 5 });
  });

  it("answers with content-type application/vnd.amazon.eventstream", async () => {
    const streaming = client();
    let contentType: string | undefined;
    streaming.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        contentType = (result.response as { headers: Record<string, string> }).headers["content-type"];
        return result;
      },
      { step: "build" },
    );
    const out = await streaming.send(new ConverseStreamCommand({ modelId: MODEL, messages: [user("x")] }));
    await collect(out.stream!);
    expect(contentType).toBe("application/vnd.amazon.eventstream");
  });

  it("covers the path in the signature: a signed Converse request replayed to converse-stream is refused", async () => {
    await client().send(new ConverseCommand({ modelId: MODEL, messages: [user("x")] }));
    const signed = fake.requests[0]!;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers))
      if (typeof value === "string" && name !== "connection") headers[name] = value;
    const moved = await fetch(`${fake.url}${signed.url.replace("/converse", "/converse-stream")}`, {
      method: "POST",
      headers,
      body: signed.body,
    });
    expect(moved.status).toBe(403);
  });

  it("streams a tool call: contentBlockStart with the toolUse, then input JSON in several fragments", async () => {
    const out = await client().send(
      new ConverseStreamCommand({
        modelId: MODEL,
        messages: [user("weather in Lisbon?")],
        toolConfig: { tools: [WEATHER_TOOL] },
      }),
    );
    const events = await collect(out.stream!);
    const start = events.find((e) => e.contentBlockStart)?.contentBlockStart;
    expect(start?.start?.toolUse?.name).toBe("get_weather");
    const fragments = events.flatMap((e) =>
      e.contentBlockDelta?.contentBlockIndex === start?.contentBlockIndex &&
      e.contentBlockDelta?.delta?.toolUse
        ? [e.contentBlockDelta.delta.toolUse.input!]
        : [],
    );
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(fragments.join(""))).toEqual({ city: "Lisbon" });
    expect(events.find((e) => e.messageStop)?.messageStop?.stopReason).toBe("tool_use");
  });

  it("sends a modelStreamErrorException frame after the first text delta for TRIGGER_STREAM_ERROR", async () => {
    const out = await client().send(
      new ConverseStreamCommand({ modelId: MODEL, messages: [user("TRIGGER_STREAM_ERROR")] }),
    );
    const seen: ConverseStreamOutput[] = [];
    const err = await rejection(
      (async () => {
        for await (const event of out.stream!) seen.push(event);
      })(),
    );
    expect(err.name).toBe("ModelStreamErrorException");
    expect(seen.some((e) => e.contentBlockDelta?.delta?.text)).toBe(true);
  });

  it("sends an exception frame before any content for TRIGGER_EARLY_STREAM_ERROR", async () => {
    const err = await rejection(
      (async () => {
        const out = await client().send(
          new ConverseStreamCommand({ modelId: MODEL, messages: [user("TRIGGER_EARLY_STREAM_ERROR")] }),
        );
        await collect(out.stream!);
      })(),
    );
    expect(err.name).toBe("ServiceUnavailableException");
  });

  it("writes real CRCs: the SDK refuses the frame corrupted on purpose", async () => {
    const out = await client().send(
      new ConverseStreamCommand({ modelId: MODEL, messages: [user("TRIGGER_CORRUPT_FRAME")] }),
    );
    const err = await rejection(collect(out.stream!));
    expect(err.message).toMatch(/checksum/i);
  });
});

describe("bedrock fake: Claude's reasoning", () => {
  const THINKING = { thinking: { type: "enabled", budget_tokens: 1024 } };
  const converse = (
    messages: Message[],
    extra: Partial<ConstructorParameters<typeof ConverseCommand>[0]> = {},
  ) =>
    client().send(
      new ConverseCommand({
        modelId: MODEL,
        messages,
        toolConfig: { tools: [WEATHER_TOOL] },
        inferenceConfig: { maxTokens: 2048 },
        additionalModelRequestFields: THINKING,
        ...extra,
      }),
    );

  it("thinks first with a signed reasoningText, and streams it as text then signature deltas", async () => {
    const reply = await converse([user("What is the weather in Paris? TRIGGER_REDACTED_THINKING")]);
    const [reasoning, redacted, ...rest] = reply.output!.message!.content!;
    expect(reasoning!.reasoningContent!.reasoningText).toEqual({
      text: expect.stringContaining("Paris"),
      signature: expect.any(String),
    });
    expect(redacted!.reasoningContent!.redactedContent).toBeInstanceOf(Uint8Array);
    expect(rest.map((b) => Object.keys(b)[0])).toEqual(["text", "toolUse"]);

    const streamed = await client().send(
      new ConverseStreamCommand({
        modelId: MODEL,
        messages: [user("Hello")],
        inferenceConfig: { maxTokens: 2048 },
        additionalModelRequestFields: THINKING,
      }),
    );
    const deltas = (await collect(streamed.stream!)).flatMap((e) =>
      e.contentBlockDelta ? [e.contentBlockDelta] : [],
    );
    expect(deltas[0]).toMatchObject({
      contentBlockIndex: 0,
      delta: { reasoningContent: { text: expect.any(String) } },
    });
    const signature = deltas.find((d) => d.delta?.reasoningContent?.signature);
    expect(signature?.contentBlockIndex).toBe(0);
    expect(deltas.at(-1)).toMatchObject({ contentBlockIndex: 1, delta: { text: expect.any(String) } });
  });

  it("refuses reasoning in history that is unsigned or altered, and a tool loop that lost it", async () => {
    const first = await converse([user("What is the weather in Paris?")]);
    const content = first.output!.message!.content!;
    const use = content.find((b) => b.toolUse)!.toolUse!;
    const result: Message = {
      role: "user",
      content: [{ toolResult: { toolUseId: use.toolUseId, content: [{ text: "sunny" }] } }],
    };
    const text = content[0]!.reasoningContent!.reasoningText!.text!;
    const withReasoning = (reasoningText: { text: string; signature?: string }) =>
      converse([
        user("What is the weather in Paris?"),
        { role: "assistant", content: [{ reasoningContent: { reasoningText } }, ...content.slice(1)] },
        result,
      ]);

    expect((await rejection(withReasoning({ text }))).message).toMatch(/signature: Field required/);
    const altered = await rejection(
      withReasoning({ text: `${text}!`, signature: content[0]!.reasoningContent!.reasoningText!.signature! }),
    );
    expect(altered.message).toMatch(/Invalid `signature`/);
    const lost = await rejection(
      converse([
        user("What is the weather in Paris?"),
        { role: "assistant", content: content.slice(1) },
        result,
      ]),
    );
    expect(lost.message).toMatch(/must start with a thinking block/);
    const kept = await converse([
      user("What is the weather in Paris?"),
      { role: "assistant", content },
      result,
    ]);
    expect(kept.output!.message!.content!.at(-1)).toEqual({ text: "Tool result: sunny" });
  });

  it("checks the thinking settings as Claude does, and other families refuse them", async () => {
    const tooSmall = await rejection(converse([user("Hi")], { inferenceConfig: { maxTokens: 1024 } }));
    expect(tooSmall.message).toMatch(/max_tokens` must be greater than `thinking.budget_tokens/);
    const forced = await rejection(
      converse([user("Hi")], { toolConfig: { tools: [WEATHER_TOOL], toolChoice: { any: {} } } }),
    );
    expect(forced.message).toMatch(/tool_choice forces tool use/);
    const hot = await rejection(
      converse([user("Hi")], { inferenceConfig: { maxTokens: 2048, temperature: 0.2 } }),
    );
    expect(hot.message).toMatch(/temperature/);
    const nova = await rejection(converse([user("Hi")], { modelId: "amazon.nova-lite-v1:0" }));
    expect(nova).toMatchObject({
      name: "ValidationException",
      message: expect.stringMatching(/extraneous key \[thinking\]/),
    });
  });
});

describe("bedrock fake: Titan embeddings via InvokeModel", () => {
  async function embed(
    modelId: string,
    body: Record<string, unknown>,
  ): Promise<{ embedding: number[]; inputTextTokenCount: number }> {
    const out = await client().send(
      new InvokeModelCommand({
        modelId,
        body: JSON.stringify(body),
        contentType: "application/json",
        accept: "application/json",
      }),
    );
    return JSON.parse(new TextDecoder().decode(out.body)) as {
      embedding: number[];
      inputTextTokenCount: number;
    };
  }

  it("returns deterministic, normalized vectors of the requested dimension", async () => {
    const a = await embed("amazon.titan-embed-text-v2:0", {
      inputText: "hello world",
      dimensions: 256,
      normalize: true,
    });
    const b = await embed("amazon.titan-embed-text-v2:0", {
      inputText: "hello world",
      dimensions: 256,
      normalize: true,
    });
    const c = await embed("amazon.titan-embed-text-v2:0", {
      inputText: "another text",
      dimensions: 256,
      normalize: true,
    });
    expect(a.embedding).toHaveLength(256);
    expect(a.embedding).toEqual(b.embedding);
    expect(a.embedding).not.toEqual(c.embedding);
    expect(Math.hypot(...a.embedding)).toBeCloseTo(1, 6);
    expect(a.inputTextTokenCount).toBe(2);
    expect(fake.requests[0]!.url).toBe("/model/amazon.titan-embed-text-v2%3A0/invoke");
    expect((await embed("amazon.titan-embed-text-v2:0", { inputText: "x" })).embedding).toHaveLength(1024);
  });

  it("refuses dimensions Titan v2 does not offer", async () => {
    const err = await rejection(embed("amazon.titan-embed-text-v2:0", { inputText: "x", dimensions: 300 }));
    expect(err.name).toBe("ValidationException");
    expect(err.message).toMatch(/dimensions: 300 is not a valid enum value/);
  });
});
