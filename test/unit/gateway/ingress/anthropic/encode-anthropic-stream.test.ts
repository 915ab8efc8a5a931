import type { ResponseMeta } from "../../../../../src/gateway/ingress/chat-ingress-format.js";
import { describe, expect, it } from "vitest";
import type { ChatStreamEvent } from "../../../../../src/gateway/canonical/chat.js";
import { encodeAnthropicStream } from "../../../../../src/gateway/ingress/anthropic/encode-anthropic-stream.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const meta = { id: "chatcmpl-0123abcd", created: 1_700_000_000, model: "claude-route", includeUsage: true };

async function* from(events: ChatStreamEvent[], failWith?: Error): AsyncGenerator<ChatStreamEvent> {
  for (const event of events) yield event;
  if (failWith) throw failWith;
}

async function collect(
  events: AsyncIterable<ChatStreamEvent>,
  responseMeta: ResponseMeta = meta,
): Promise<string[]> {
  const frames: string[] = [];
  for await (const frame of encodeAnthropicStream(events, responseMeta)) frames.push(frame);
  return frames;
}

/** Splits frames into [event, data] and checks each data's `type` equals its event name. */
function parse(frames: string[]): Array<{ event: string; data: Record<string, unknown> }> {
  return frames.map((frame) => {
    const match = /^event: (\w+)\ndata: (.*)\n\n$/s.exec(frame);
    if (!match) throw new Error(`not an SSE frame: ${JSON.stringify(frame)}`);
    const data = JSON.parse(match[2]!) as Record<string, unknown>;
    expect(data.type).toBe(match[1]);
    return { event: match[1]!, data };
  });
}

const usage = {
  type: "usage",
  usage: { inputTokens: 30, outputTokens: 7, cacheReadTokens: 10, estimated: false },
} as const;

describe("encodeAnthropicStream", () => {
  it("streams text as one content block between message_start and message_delta/message_stop", async () => {
    const frames = await collect(
      from([
        { type: "text-delta", text: "You said: " },
        { type: "text-delta", text: "" },
        { type: "text-delta", text: "hi" },
        { type: "finish", finishReason: "stop", rawFinishReason: "end_turn" },
        usage,
      ]),
    );
    expect(frames[0]).toBe(
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_0123abcd","type":"message","role":"assistant",' +
        '"model":"claude-route","content":[],"stop_reason":null,"stop_sequence":null,' +
        '"usage":{"input_tokens":null,"output_tokens":0,"cache_creation_input_tokens":null,"cache_read_input_tokens":null}}}\n\n',
    );
    const estimated = parse(
      await collect(from([{ type: "finish", finishReason: "stop", rawFinishReason: "end_turn" }, usage]), {
        ...meta,
        promptTokensEstimate: 28,
      }),
    )[0]!;
    expect(estimated.data).toMatchObject({
      message: { usage: { input_tokens: 28, output_tokens: 0 }, switchboard: { usage_estimated: true } },
    });
    expect(parse(frames).slice(1)).toEqual([
      {
        event: "content_block_start",
        data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      },
      {
        event: "content_block_delta",
        data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "You said: " } },
      },
      {
        event: "content_block_delta",
        data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hi" } },
      },
      { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
      {
        event: "message_delta",
        data: {
          type: "message_delta",
          delta: { stop_reason: "end_turn", stop_sequence: null },
          usage: {
            input_tokens: 20,
            output_tokens: 7,
            cache_creation_input_tokens: null,
            cache_read_input_tokens: 10,
          },
          switchboard: { raw_finish_reason: "end_turn", usage_estimated: false },
        },
      },
      { event: "message_stop", data: { type: "message_stop" } },
    ]);
  });

  it("gives text and each tool call their own block, in order, with argument fragments as input_json_delta", async () => {
    const frames = parse(
      await collect(
        from([
          { type: "text-delta", text: "Checking." },
          { type: "tool-call-start", index: 0, id: "call_a", name: "get_weather" },
          { type: "tool-call-delta", index: 0, argumentsDelta: '{"city":' },
          { type: "tool-call-delta", index: 0, argumentsDelta: '"Paris"}' },
          { type: "tool-call-start", index: 1, id: "call_b", name: "get_time" },
          { type: "tool-call-delta", index: 1, argumentsDelta: "" },
          { type: "finish", finishReason: "tool_calls", rawFinishReason: "tool_calls" },
          { type: "usage", usage: { inputTokens: 40, outputTokens: 12, estimated: true } },
        ]),
      ),
    );
    expect(frames.map((f) => [f.event, f.data.index])).toEqual([
      ["message_start", undefined],
      ["content_block_start", 0],
      ["content_block_delta", 0],
      ["content_block_stop", 0],
      ["content_block_start", 1],
      ["content_block_delta", 1],
      ["content_block_delta", 1],
      ["content_block_stop", 1],
      ["content_block_start", 2],
      ["content_block_stop", 2],
      ["message_delta", undefined],
      ["message_stop", undefined],
    ]);
    expect(frames[4]!.data.content_block).toEqual({
      type: "tool_use",
      id: "call_a",
      name: "get_weather",
      input: {},
    });
    expect(frames.slice(5, 7).map((f) => f.data.delta)).toEqual([
      { type: "input_json_delta", partial_json: '{"city":' },
      { type: "input_json_delta", partial_json: '"Paris"}' },
    ]);
    expect(frames[8]!.data.content_block).toEqual({
      type: "tool_use",
      id: "call_b",
      name: "get_time",
      input: {},
    });
    expect(frames[10]!.data).toMatchObject({
      delta: { stop_reason: "tool_use" },
      usage: { input_tokens: 40, output_tokens: 12 },
      switchboard: { usage_estimated: true },
    });
  });

  it("emits no content block for an empty answer", async () => {
    const frames = parse(
      await collect(from([{ type: "finish", finishReason: "length", rawFinishReason: "length" }, usage])),
    );
    expect(frames.map((f) => f.event)).toEqual(["message_start", "message_delta", "message_stop"]);
    expect(frames[1]!.data.delta).toEqual({ stop_reason: "max_tokens", stop_sequence: null });
  });

  it("passes an upstream error through without finishing the message", async () => {
    const upstreamError = new GatewayError("rate_limit", "openai: slow down");
    const frames: string[] = [];
    const run = async () => {
      for await (const frame of encodeAnthropicStream(
        from([{ type: "text-delta", text: "Hel" }], upstreamError),
        meta,
      ))
        frames.push(frame);
    };
    await expect(run()).rejects.toBe(upstreamError);
    expect(parse(frames).map((f) => f.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
    ]);
  });

  it("fails a stream that ends without a finish event instead of inventing a stop reason", async () => {
    await expect(collect(from([{ type: "text-delta", text: "Hel" }]))).rejects.toMatchObject({
      errorClass: "upstream_unavailable",
      message: "the upstream ended the stream before it finished",
    });
  });

  it("fails on arguments for a tool call that never started", async () => {
    await expect(
      collect(
        from([
          { type: "tool-call-delta", index: 3, argumentsDelta: "{}" },
          { type: "finish", finishReason: "stop", rawFinishReason: "stop" },
        ]),
      ),
    ).rejects.toMatchObject({ errorClass: "internal" });
  });
});
