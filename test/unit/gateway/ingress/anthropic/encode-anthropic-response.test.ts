import { describe, expect, it } from "vitest";
import type { ChatResponse } from "../../../../../src/gateway/canonical/chat.js";
import { encodeAnthropicResponse } from "../../../../../src/gateway/ingress/anthropic/encode-anthropic-response.js";

const meta = { id: "chatcmpl-0123abcd", created: 1_700_000_000, model: "claude-route", includeUsage: true };
const response: ChatResponse = {
  id: "upstream-id",
  model: "gpt-4o-mini",
  content: "You said: hi",
  toolCalls: [],
  finishReason: "stop",
  rawFinishReason: "stop",
  usage: { inputTokens: 12, outputTokens: 5, estimated: false },
};

describe("encodeAnthropicResponse", () => {
  it("encodes a text answer as an Anthropic message with the client's model name", () => {
    expect(encodeAnthropicResponse(response, meta)).toEqual({
      id: "msg_0123abcd",
      type: "message",
      role: "assistant",
      model: "claude-route",
      content: [{ type: "text", text: "You said: hi" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: {
        input_tokens: 12,
        output_tokens: 5,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: null,
      },
      switchboard: { raw_finish_reason: "stop", usage_estimated: false },
    });
  });

  it("encodes tool calls as tool_use blocks with parsed input and no empty text block", () => {
    const encoded = encodeAnthropicResponse(
      {
        ...response,
        content: "",
        toolCalls: [
          { id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' },
          { id: "call_2", name: "get_time", arguments: "" },
        ],
        finishReason: "tool_calls",
        rawFinishReason: "tool_calls",
      },
      meta,
    );
    expect(encoded.content).toEqual([
      { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "call_2", name: "get_time", input: {} },
    ]);
    expect(encoded.stop_reason).toBe("tool_use");
    expect(encoded.switchboard).toEqual({ raw_finish_reason: "tool_calls", usage_estimated: false });
  });

  it("gives arguments that are not a JSON object an empty input and keeps the raw text in the extension", () => {
    const encoded = encodeAnthropicResponse(
      {
        ...response,
        toolCalls: [
          { id: "call_1", name: "get_weather", arguments: "city=Paris" },
          { id: "call_2", name: "get_weather", arguments: '["Paris"]' },
        ],
        finishReason: "tool_calls",
      },
      meta,
    );
    expect(encoded.content).toEqual([
      { type: "text", text: "You said: hi" },
      { type: "tool_use", id: "call_1", name: "get_weather", input: {} },
      { type: "tool_use", id: "call_2", name: "get_weather", input: {} },
    ]);
    expect(encoded.switchboard).toMatchObject({
      invalid_tool_input: { call_1: "city=Paris", call_2: '["Paris"]' },
    });
  });

  it.each<[ChatResponse["finishReason"], string, string]>([
    ["stop", "end_turn", "end_turn"],
    ["stop", "stop_sequence", "stop_sequence"],
    ["stop", "STOP", "end_turn"],
    ["length", "length", "max_tokens"],
    ["length", "model_context_window_exceeded", "model_context_window_exceeded"],
    ["tool_calls", "tool_use", "tool_use"],
    ["content_filter", "SAFETY", "refusal"],
  ])("maps finish %s (raw %s) to stop_reason %s", (finishReason, rawFinishReason, stopReason) => {
    const encoded = encodeAnthropicResponse({ ...response, finishReason, rawFinishReason }, meta);
    expect(encoded.stop_reason).toBe(stopReason);
    expect(encoded.switchboard).toMatchObject({ raw_finish_reason: rawFinishReason });
  });

  it("reports cached input apart from input_tokens, as Anthropic does, and flags estimated usage", () => {
    const encoded = encodeAnthropicResponse(
      {
        ...response,
        usage: {
          inputTokens: 1000,
          outputTokens: 20,
          cacheReadTokens: 700,
          cacheWriteTokens: 200,
          estimated: true,
        },
      },
      meta,
    );
    expect(encoded.usage).toEqual({
      input_tokens: 100,
      output_tokens: 20,
      cache_creation_input_tokens: 200,
      cache_read_input_tokens: 700,
    });
    expect(encoded.switchboard).toMatchObject({ usage_estimated: true });
  });

  it("reports unknown usage as null, never as zeros", () => {
    const encoded = encodeAnthropicResponse({ ...response, usage: undefined }, meta);
    expect(encoded.usage).toEqual({
      input_tokens: null,
      output_tokens: null,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
    });
    expect(encoded.switchboard).toMatchObject({ usage_estimated: null });
  });
});
