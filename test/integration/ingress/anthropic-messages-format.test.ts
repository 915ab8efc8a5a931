import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Anthropic, {
  APIError,
  BadRequestError,
  GatewayTimeoutError,
  OverloadedError,
  RateLimitError,
} from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatResponse, ChatStreamEvent } from "../../../src/gateway/canonical/chat.js";
import { anthropicMessagesFormat as format } from "../../../src/gateway/ingress/anthropic/anthropic-messages-format.js";
import type { DecodedChatRequest, ResponseMeta } from "../../../src/gateway/ingress/chat-ingress-format.js";
import { GatewayError, isGatewayError } from "../../../src/shared/errors.js";

/**
 * Drives the format with the official Anthropic SDK: a tiny server decodes what the SDK sends
 * and answers with this format's encoders, as the gateway's handler does; the SDK must read
 * the answers as if they came from Anthropic.
 */

type Answer =
  | { kind: "json"; response: ChatResponse }
  | { kind: "stream"; events: ChatStreamEvent[]; failWith?: GatewayError }
  | { kind: "error"; error: GatewayError };

let answer: Answer;
let decoded: DecodedChatRequest | undefined;
let server: Server;
let client: Anthropic;

const meta: ResponseMeta = {
  id: "chatcmpl-5eed",
  created: 1_700_000_000,
  model: "claude-route",
  includeUsage: true,
};

async function* replay(events: ChatStreamEvent[], failWith?: GatewayError): AsyncGenerator<ChatStreamEvent> {
  for (const event of events) yield event;
  if (failWith) throw failWith;
}

function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown): void {
  res.writeHead(status, { ...headers, "content-type": "application/json" }).end(JSON.stringify(body));
}

async function respond(body: unknown, res: ServerResponse): Promise<void> {
  try {
    decoded = format.decode(body);
    if (answer.kind === "error") throw answer.error;
  } catch (err) {
    const rendered = format.renderError(
      isGatewayError(err) ? err : new GatewayError("internal", "test server failed"),
    );
    sendJson(res, rendered.status, rendered.headers, rendered.body);
    return;
  }
  if (answer.kind === "json") {
    sendJson(res, 200, {}, format.encodeResponse(answer.response, meta));
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  try {
    for await (const frame of format.encodeStream(replay(answer.events, answer.failWith), meta))
      res.write(frame);
  } catch (err) {
    res.write(format.renderStreamError(err as GatewayError, meta));
  }
  res.end();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void respond(JSON.parse(Buffer.concat(chunks).toString("utf8")), res);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  client = new Anthropic({ baseURL: `http://127.0.0.1:${port}`, apiKey: "x", maxRetries: 0 });
});

afterAll(async () => {
  server.close();
  await once(server, "close");
});

beforeEach(() => {
  decoded = undefined;
});

const weatherTool = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

const toolStream: ChatStreamEvent[] = [
  { type: "text-delta", text: "Checking " },
  { type: "text-delta", text: "the weather." },
  { type: "tool-call-start", index: 0, id: "call_1", name: "get_weather" },
  { type: "tool-call-delta", index: 0, argumentsDelta: '{"city": "Pa' },
  { type: "tool-call-delta", index: 0, argumentsDelta: 'ris"}' },
  { type: "finish", finishReason: "tool_calls", rawFinishReason: "tool_calls" },
  { type: "usage", usage: { inputTokens: 30, outputTokens: 7, cacheReadTokens: 10, estimated: false } },
];

/** A text-then-get_weather answer as the SDK reads it; usage is [input, output, cache read]. */
function expectToolUseMessage(
  message: Anthropic.Message,
  text: string,
  call: { id: string; city: string },
  [input, output, cacheRead]: [number, number, number | null],
): void {
  expect(message.id).toBe("msg_5eed");
  expect(message.content).toEqual([
    { type: "text", text },
    { type: "tool_use", id: call.id, name: "get_weather", input: { city: call.city } },
  ]);
  expect(message.stop_reason).toBe("tool_use");
  expect(message.usage).toEqual({
    input_tokens: input,
    output_tokens: output,
    cache_creation_input_tokens: null,
    cache_read_input_tokens: cacheRead,
  });
}

describe("Anthropic Messages format read by @anthropic-ai/sdk", () => {
  it("serves messages.create: the SDK's tool history decodes and the answer reads as an Anthropic message", async () => {
    answer = {
      kind: "json",
      response: {
        id: "upstream-1",
        model: "gpt-4o-mini",
        content: "It is 18C in Paris. Checking Rome.",
        toolCalls: [{ id: "call_2", name: "get_weather", arguments: '{"city":"Rome"}' }],
        finishReason: "tool_calls",
        rawFinishReason: "tool_calls",
        usage: { inputTokens: 55, outputTokens: 21, estimated: true },
      },
    };
    const message = await client.messages.create({
      model: "claude-route",
      max_tokens: 512,
      system: "Be brief.",
      tools: [weatherTool],
      messages: [
        { role: "user", content: "Weather in Paris, then Rome?" },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "18C" }] },
      ],
    });

    expect(decoded?.stream).toBe(false);
    expect(decoded?.request.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Weather in Paris, then Rome?" }] },
      {
        role: "assistant",
        content: "",
        toolCalls: [{ id: "toolu_1", name: "get_weather", arguments: '{"city":"Paris"}' }],
      },
      { role: "tool", toolCallId: "toolu_1", content: "18C" },
    ]);

    expect(message.model).toBe("claude-route");
    expectToolUseMessage(message, "It is 18C in Paris. Checking Rome.", { id: "call_2", city: "Rome" }, [
      55,
      21,
      null,
    ]);
  });

  it("serves messages.stream: finalMessage() has the text, the parsed tool input, the stop reason and the final usage", async () => {
    answer = { kind: "stream", events: toolStream };
    const stream = client.messages.stream({
      model: "claude-route",
      max_tokens: 512,
      tools: [weatherTool],
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
      messages: [{ role: "user", content: "What's the weather in Paris?" }],
    });
    const texts: string[] = [];
    stream.on("text", (text) => texts.push(text));
    const message = await stream.finalMessage();

    expect(decoded).toMatchObject({
      stream: true,
      request: { toolChoice: "auto", parallelToolCalls: false },
    });
    expect(texts).toEqual(["Checking ", "the weather."]);
    expectToolUseMessage(message, "Checking the weather.", { id: "call_1", city: "Paris" }, [20, 7, 10]);
  });

  it("serves messages.create({stream: true}) as Anthropic's raw event sequence", async () => {
    answer = {
      kind: "stream",
      events: [
        { type: "text-delta", text: "You said: hi" },
        { type: "finish", finishReason: "stop", rawFinishReason: "stop_sequence" },
        { type: "usage", usage: { inputTokens: 9, outputTokens: 4, estimated: false } },
      ],
    };
    const stream = await client.messages.create({
      model: "claude-route",
      max_tokens: 64,
      stop_sequences: ["END"],
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);

    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const delta = events[4] as Anthropic.RawMessageDeltaEvent;
    expect(delta.delta.stop_reason).toBe("stop_sequence");
    expect(delta.usage).toMatchObject({ input_tokens: 9, output_tokens: 4 });
    expect(decoded?.request.stop).toEqual(["END"]);
  });

  it("ends a broken stream with an error event the SDK raises as an APIError of Anthropic's type", async () => {
    answer = {
      kind: "stream",
      events: [{ type: "text-delta", text: "Partial" }],
      failWith: new GatewayError("upstream_unavailable", "openai: the connection was reset"),
    };
    const stream = client.messages.stream({
      model: "claude-route",
      max_tokens: 64,
      messages: [{ role: "user", content: "hi" }],
    });
    const error = await stream.finalMessage().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).type).toBe("overloaded_error");
    expect((error as APIError).message).toContain("openai: the connection was reset");
  });

  it("rejects a body the decoder refuses with BadRequestError naming the field", async () => {
    answer = { kind: "json", response: undefined as unknown as ChatResponse };
    const error = await client.messages
      .create({ model: "claude-route", max_tokens: 64, messages: [{ role: "assistant", content: "Hi" }] })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).status).toBe(400);
    expect((error as BadRequestError).type).toBe("invalid_request_error");
    expect((error as BadRequestError).apiMessage).toBe(
      'messages.0.role: the first message must use the "user" role',
    );
  });

  it.each([
    [
      new GatewayError("rate_limit", "route claude-route: too many requests", { retryAfterSeconds: 3 }),
      RateLimitError,
      429,
      "rate_limit_error",
    ],
    [
      new GatewayError("upstream_unavailable", "no healthy target for route claude-route"),
      OverloadedError,
      529,
      "overloaded_error",
    ],
    [
      new GatewayError("timeout", "openai did not answer within 30s"),
      GatewayTimeoutError,
      504,
      "timeout_error",
    ],
  ] as const)(
    "renders %s so the SDK throws its matching error class",
    async (gatewayError, errorClass, status, type) => {
      answer = { kind: "error", error: gatewayError };
      const error = await client.messages
        .create({ model: "claude-route", max_tokens: 64, messages: [{ role: "user", content: "hi" }] })
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(errorClass);
      expect((error as APIError).status).toBe(status);
      expect((error as APIError).type).toBe(type);
      expect((error as APIError).apiMessage).toBe(gatewayError.message);
      if (gatewayError.retryAfterSeconds !== undefined) {
        expect((error as APIError).headers?.get("retry-after")).toBe(String(gatewayError.retryAfterSeconds));
      }
    },
  );
});
