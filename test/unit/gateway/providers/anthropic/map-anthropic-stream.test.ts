import type { EventSourceMessage } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import type { ChatStreamEvent } from "../../../../../src/gateway/canonical/chat.js";
import { mapAnthropicStream } from "../../../../../src/gateway/providers/anthropic/map-anthropic-stream.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

function sse(data: Record<string, unknown>, event = String(data.type)): EventSourceMessage {
  return { event, data: JSON.stringify(data), id: undefined };
}

async function* from(events: EventSourceMessage[]): AsyncGenerator<EventSourceMessage> {
  for (const event of events) yield event;
}

async function run(events: EventSourceMessage[]): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const event of mapAnthropicStream(from(events), "anthropic provider a/b", ["sk-secret-123456"]))
    out.push(event);
  return out;
}

const start = (usage: Record<string, unknown>) =>
  sse({
    type: "message_start",
    message: {
      id: "m",
      type: "message",
      role: "assistant",
      model: "c",
      content: [],
      stop_reason: null,
      usage,
    },
  });
const end = (stop_reason: string, usage?: Record<string, unknown>) => [
  sse({ type: "message_delta", delta: { stop_reason, stop_sequence: null }, ...(usage ? { usage } : {}) }),
  sse({ type: "message_stop" }),
];

describe("mapAnthropicStream", () => {
  it("yields text, one finish, then one usage combining message_start input/cache and message_delta output", async () => {
    const events = await run([
      start({
        input_tokens: 12,
        cache_read_input_tokens: 30,
        cache_creation_input_tokens: 0,
        output_tokens: 1,
      }),
      sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
      sse({ type: "ping" }),
      sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } }),
      sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "lo" } }),
      sse({ type: "content_block_stop", index: 0 }),
      ...end("end_turn", { output_tokens: 9 }),
    ]);
    expect(events).toEqual([
      { type: "text-delta", text: "Hel" },
      { type: "text-delta", text: "lo" },
      { type: "finish", finishReason: "stop", rawFinishReason: "end_turn" },
      { type: "usage", usage: { inputTokens: 42, outputTokens: 9, cacheReadTokens: 30, estimated: false } },
    ]);
  });

  it("prefers cumulative counts in message_delta when it carries input tokens too", async () => {
    const events = await run([
      start({ input_tokens: 5, output_tokens: 1 }),
      ...end("end_turn", { input_tokens: 7, output_tokens: 3 }),
    ]);
    expect(events.at(-1)).toEqual({
      type: "usage",
      usage: { inputTokens: 7, outputTokens: 3, estimated: false },
    });
  });

  it("numbers tool calls from 0 whatever their content-block index, skipping empty fragments", async () => {
    const events = await run([
      start({ input_tokens: 1, output_tokens: 1 }),
      sse({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }),
      sse({ type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "hmm" } }),
      sse({
        type: "content_block_start",
        index: 1,
        content_block: { type: "tool_use", id: "t1", name: "f", input: {} },
      }),
      sse({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "" } }),
      sse({
        type: "content_block_delta",
        index: 1,
        delta: { type: "input_json_delta", partial_json: '{"a":' },
      }),
      sse({ type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "1}" } }),
      sse({ type: "content_block_stop", index: 1 }),
      sse({
        type: "content_block_start",
        index: 2,
        content_block: { type: "tool_use", id: "t2", name: "g", input: {} },
      }),
      sse({ type: "content_block_stop", index: 2 }),
      ...end("tool_use", { output_tokens: 4 }),
    ]);
    expect(events.slice(0, -1)).toEqual([
      // Thinking is reasoning, apart from the tool calls.
      { type: "reasoning-delta", text: "hmm" },
      { type: "tool-call-start", index: 0, id: "t1", name: "f" },
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"a":' },
      { type: "tool-call-delta", index: 0, argumentsDelta: "1}" },
      { type: "tool-call-start", index: 1, id: "t2", name: "g" },
      // A call without arguments still gets a JSON object.
      { type: "tool-call-delta", index: 1, argumentsDelta: "{}" },
      { type: "finish", finishReason: "tool_calls", rawFinishReason: "tool_use" },
    ]);
  });

  it.each([
    ["overloaded_error", "upstream_unavailable", 529],
    ["rate_limit_error", "rate_limit", 429],
    ["api_error", "upstream_unavailable", 500],
    ["invalid_request_error", "invalid_request", 400],
  ])("throws an `event: error` %s as %s", async (type, errorClass, status) => {
    const err = await run([
      start({ input_tokens: 1, output_tokens: 1 }),
      sse({ type: "error", error: { type, message: "boom sk-secret-123456" } }, "error"),
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).errorClass).toBe(errorClass);
    expect((err as GatewayError).upstreamStatus).toBe(status);
    expect((err as GatewayError).message).not.toContain("sk-secret-123456");
  });

  it("throws when the stream ends before a stop reason", async () => {
    const err = await run([
      start({ input_tokens: 1, output_tokens: 1 }),
      sse({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    ]).catch((e: unknown) => e);
    expect((err as GatewayError).errorClass).toBe("upstream_unavailable");
    expect((err as GatewayError).message).toMatch(/ended the stream before it finished/);
  });

  it("throws on an event that is not JSON", async () => {
    const err = await run([{ event: "message_start", data: "{oops", id: undefined }]).catch(
      (e: unknown) => e,
    );
    expect((err as GatewayError).message).toMatch(/not JSON/);
  });

  it("emits no usage when the upstream reported none", async () => {
    const events = await run([
      sse({ type: "message_delta", delta: { stop_reason: "end_turn" } }),
      sse({ type: "message_stop" }),
    ]);
    expect(events).toEqual([{ type: "finish", finishReason: "stop", rawFinishReason: "end_turn" }]);
  });
});
