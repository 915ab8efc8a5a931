import Anthropic, {
  APIError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  RateLimitError,
} from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";

const API_KEY = "sk-ant-fake-key-0123456789";
const MODEL = "claude-sonnet-4-5";
const WEATHER_TOOL = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

let fake: FakeServer;
let client: Anthropic;

beforeAll(async () => {
  fake = await startAnthropicFake({ apiKey: API_KEY, models: [MODEL, "claude-haiku-4-5"] });
  client = new Anthropic({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 0 });
});
afterAll(() => fake.close());

async function rawStream(
  body: Record<string, unknown>,
): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const res = await fetch(`${fake.url}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": API_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, max_tokens: 256, stream: true, ...body }),
  });
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  return (await res.text())
    .split("\n\n")
    .filter((frame) => frame.trim() !== "")
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? "{}") as Record<string, unknown>;
      return { event, data };
    });
}

describe("Anthropic fake driven by @anthropic-ai/sdk", () => {
  it("answers a message with an echo, stop reason and usage", async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      system: "Be brief.",
      messages: [{ role: "user", content: "Hello there" }],
    });
    expect(message.content).toEqual([{ type: "text", text: "You said: Hello there" }]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.model).toBe(MODEL);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  it("streams text through the SDK's stream helper", async () => {
    const stream = client.messages.stream({
      model: MODEL,
      max_tokens: 256,
      messages: [{ role: "user", content: "stream me please" }],
    });
    const deltas: string[] = [];
    stream.on("text", (text) => deltas.push(text));
    const final = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toBe("You said: stream me please");
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBeGreaterThan(1);
  });

  it("frames streams as the API does: named events, a ping, usage split across message_start and message_delta", async () => {
    const events = await rawStream({ messages: [{ role: "user", content: "hi" }] });
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      ...events.filter((e) => e.event === "content_block_delta").map(() => "content_block_delta"),
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const e of events) expect(e.data.type).toBe(e.event);
    const start = events[0]!.data.message as { usage: { input_tokens: number } };
    expect(start.usage.input_tokens).toBeGreaterThan(0);
    const delta = events.find((e) => e.event === "message_delta")!.data as {
      usage: { output_tokens: number };
    };
    expect(delta.usage.output_tokens).toBeGreaterThan(0);
  });

  it("calls a tool when asked about the weather, streaming its input in several fragments", async () => {
    const events = await rawStream({
      tools: [WEATHER_TOOL],
      messages: [{ role: "user", content: "What's the weather in Lyon?" }],
    });
    const fragments = events
      .filter(
        (e) =>
          e.event === "content_block_delta" && (e.data.delta as { type: string }).type === "input_json_delta",
      )
      .map((e) => (e.data.delta as { partial_json: string }).partial_json)
      .filter((f) => f !== "");
    expect(fragments.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(fragments.join(""))).toEqual({ city: "Lyon" });

    const final = await client.messages
      .stream({
        model: MODEL,
        max_tokens: 256,
        tools: [WEATHER_TOOL],
        messages: [{ role: "user", content: "What's the weather in Lyon?" }],
      })
      .finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    const toolUse = final.content.find((b) => b.type === "tool_use");
    expect(toolUse).toMatchObject({ name: "get_weather", input: { city: "Lyon" } });
  });

  it("accepts tool results in history and answers from them", async () => {
    const first = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      tools: [WEATHER_TOOL],
      messages: [{ role: "user", content: "weather in Oslo?" }],
    });
    const toolUse = first.content.find((b) => b.type === "tool_use")!;
    const second = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "weather in Oslo?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: toolUse.id, content: "4°C, snow" }] },
      ],
    });
    expect(second.content).toEqual([{ type: "text", text: "Tool result: 4°C, snow" }]);
  });

  it("rejects tool history that does not pair tool_use with tool_result", async () => {
    const err = await client.messages
      .create({
        model: MODEL,
        max_tokens: 256,
        tools: [WEATHER_TOOL],
        messages: [
          { role: "user", content: "weather?" },
          {
            role: "assistant",
            content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: {} }],
          },
          { role: "user", content: "never mind" },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toContain(
      "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1",
    );
  });

  it("enforces the API's validation: max_tokens, alternating roles, unknown fields", async () => {
    const missingMax = await client.messages
      .create({
        model: MODEL,
        messages: [{ role: "user", content: "x" }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(missingMax).toBeInstanceOf(BadRequestError);
    expect((missingMax as BadRequestError).type).toBe("invalid_request_error");
    expect((missingMax as BadRequestError).message).toContain("max_tokens: Field required");

    const repeated = await client.messages
      .create({
        model: MODEL,
        max_tokens: 10,
        messages: [
          { role: "user", content: "a" },
          { role: "user", content: "b" },
        ],
      })
      .catch((e: unknown) => e);
    expect(repeated).toBeInstanceOf(BadRequestError);
    expect((repeated as BadRequestError).message).toContain("roles must alternate");

    const extra = await client.messages
      .create({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: "user", content: "a" }],
        stream_options: {},
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect((extra as BadRequestError).message).toContain("stream_options: Extra inputs are not permitted");
  });

  it("accepts temperature on 2023-06-01 and rejects it on 2026-10-21, the version SDK 1.x sends", async () => {
    const err = await client.messages
      .create({
        model: MODEL,
        max_tokens: 10,
        temperature: 0.2,
        messages: [{ role: "user", content: "x" }],
      } as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toContain("temperature");

    const res = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: {
        "x-api-key": API_KEY,
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
      },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 10,
        temperature: 0.2,
        messages: [{ role: "user", content: "x" }],
      }),
    });
    expect(res.status).toBe(200);
  });

  it("rejects a wrong API key with authentication_error", async () => {
    const bad = new Anthropic({ apiKey: "sk-ant-wrong-key-000000", baseURL: fake.url, maxRetries: 0 });
    const err = await bad.messages
      .create({ model: MODEL, max_tokens: 10, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).type).toBe("authentication_error");
  });

  it("answers an unknown model with not_found_error", async () => {
    const err = await client.messages
      .create({ model: "claude-nope", max_tokens: 10, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).type).toBe("not_found_error");
  });

  it("returns the context-length error for TRIGGER_CONTEXT_LENGTH", async () => {
    const err = await client.messages
      .create({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: "user", content: "TRIGGER_CONTEXT_LENGTH" }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toMatch(/prompt is too long: \d+ tokens > \d+ maximum/);
  });

  it("rate limits TRIGGER_RATE_LIMIT with retry-after: 7", async () => {
    const err = await client.messages
      .create({ model: MODEL, max_tokens: 10, messages: [{ role: "user", content: "TRIGGER_RATE_LIMIT" }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).type).toBe("rate_limit_error");
    expect((err as RateLimitError).headers?.get("retry-after")).toBe("7");
  });

  it("refuses TRIGGER_CONTENT_FILTER with stop_reason refusal", async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: "user", content: "TRIGGER_CONTENT_FILTER" }],
    });
    expect(message.stop_reason).toBe("refusal");
    const streamed = await client.messages
      .stream({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: "user", content: "TRIGGER_CONTENT_FILTER" }],
      })
      .finalMessage();
    expect(streamed.stop_reason).toBe("refusal");
  });

  it("sends an overloaded_error event after the first text delta for TRIGGER_STREAM_ERROR", async () => {
    const stream = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      stream: true,
      messages: [{ role: "user", content: "TRIGGER_STREAM_ERROR now" }],
    });
    const texts: string[] = [];
    const err = await (async () => {
      for await (const event of stream) {
        if (event.type === "content_block_delta" && event.delta.type === "text_delta")
          texts.push(event.delta.text);
      }
    })().catch((e: unknown) => e);
    expect(texts).toHaveLength(1);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).type).toBe("overloaded_error");
  });

  it("sends an overloaded_error event before anything else for TRIGGER_EARLY_STREAM_ERROR", async () => {
    const stream = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      stream: true,
      messages: [{ role: "user", content: "TRIGGER_EARLY_STREAM_ERROR" }],
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const event of stream) seen.push(event.type);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([]);
    expect((err as APIError).type).toBe("overloaded_error");
  });

  it("reports prompt-cache writes then reads for cache_control blocks", async () => {
    const params = {
      model: MODEL,
      max_tokens: 50,
      system: [
        {
          type: "text" as const,
          text: "A long stable system prompt. ".repeat(20),
          cache_control: { type: "ephemeral" as const },
        },
      ],
      messages: [{ role: "user" as const, content: "hi" }],
    };
    const first = await client.messages.create(params);
    const second = await client.messages.create(params);
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(first.usage.cache_read_input_tokens).toBe(0);
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
  });

  it("answers structured-output requests with JSON of the schema's shape", async () => {
    const message = await client.messages.create({
      model: MODEL,
      max_tokens: 256,
      messages: [{ role: "user", content: "Name a colour" }],
      output_config: {
        format: {
          type: "json_schema",
          schema: { type: "object", properties: { answer: { type: "string" }, score: { type: "number" } } },
        },
      },
    });
    const text = message.content[0]!.type === "text" ? message.content[0]!.text : "";
    expect(JSON.parse(text)).toEqual({ answer: "You said: Name a colour", score: 0 });
  });

  it("lists models with pagination", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list({ limit: 1 })) ids.push(model.id);
    expect(ids).toEqual([MODEL, "claude-haiku-4-5"]);
  });
});
