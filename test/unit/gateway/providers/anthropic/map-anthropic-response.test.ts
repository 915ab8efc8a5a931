import { describe, expect, it } from "vitest";
import { mapAnthropicResponse } from "../../../../../src/gateway/providers/anthropic/map-anthropic-response.js";
import { mapAnthropicFinishReason } from "../../../../../src/gateway/providers/anthropic/map-anthropic-finish-reason.js";
import type { AnthropicMessage } from "../../../../../src/gateway/providers/anthropic/anthropic-wire-types.js";
import { itMapsFinishReasons } from "../finish-reason-contract.js";

function message(overrides: Partial<AnthropicMessage>): AnthropicMessage {
  return {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-x",
    content: [],
    stop_reason: "end_turn",
    ...overrides,
  };
}

describe("mapAnthropicResponse", () => {
  it("concatenates text blocks, skips thinking, and turns tool_use into tool calls", () => {
    const res = mapAnthropicResponse(
      message({
        content: [
          { type: "thinking", thinking: "hmm", signature: "s" },
          { type: "text", text: "Part one. " },
          { type: "text", text: "Part two." },
          { type: "tool_use", id: "toolu_1", name: "f", input: { a: 1 } },
        ],
        stop_reason: "tool_use",
      }),
      "p",
    );
    expect(res).toMatchObject({
      id: "msg_1",
      model: "claude-x",
      content: "Part one. Part two.",
      toolCalls: [{ id: "toolu_1", name: "f", arguments: '{"a":1}' }],
      finishReason: "tool_calls",
      rawFinishReason: "tool_use",
    });
  });

  it("maps usage with cache tokens counted into input", () => {
    const res = mapAnthropicResponse(
      message({
        usage: {
          input_tokens: 10,
          output_tokens: 5,
          cache_read_input_tokens: 100,
          cache_creation_input_tokens: 20,
        },
      }),
      "p",
    );
    expect(res.usage).toEqual({
      inputTokens: 130,
      outputTokens: 5,
      cacheReadTokens: 100,
      cacheWriteTokens: 20,
      estimated: false,
    });
  });

  it("leaves usage undefined when the upstream sent none", () => {
    expect(mapAnthropicResponse(message({}), "p").usage).toBeUndefined();
  });

  it("fails clearly on a body without content", () => {
    expect(() =>
      mapAnthropicResponse({ id: "x" } as AnthropicMessage, "anthropic provider a/b"),
    ).toThrowError(/anthropic provider a\/b returned a message without content/);
  });
});

describe("mapAnthropicFinishReason", () => {
  itMapsFinishReasons(mapAnthropicFinishReason, {
    stop: ["end_turn", "stop_sequence", "pause_turn"],
    length: ["max_tokens", "model_context_window_exceeded"],
    contentFilter: ["refusal"],
    toolCalls: ["tool_use"],
    other: [],
  });

  it("maps the null stop_reason of a message still streaming to stop", () => {
    expect(mapAnthropicFinishReason(null, false)).toBe("stop");
  });
});
