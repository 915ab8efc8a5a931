import { describe, expect, it } from "vitest";
import { mapOpenAiFinishReason } from "../../../../../src/gateway/providers/openai/map-openai-finish-reason.js";
import { mapOpenAiResponse } from "../../../../../src/gateway/providers/openai/map-openai-response.js";
import { itMapsFinishReasons } from "../finish-reason-contract.js";

describe("mapOpenAiResponse", () => {
  it("maps content, tool calls and usage including cached tokens", () => {
    const res = mapOpenAiResponse(
      {
        id: "c1",
        model: "gpt-4o",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: null,
              tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
            },
            finish_reason: "tool_calls",
          },
        ],
        usage: {
          prompt_tokens: 10,
          completion_tokens: 2,
          prompt_tokens_details: { cached_tokens: 4 },
          completion_tokens_details: { reasoning_tokens: 1 },
        },
      },
      "p",
    );
    expect(res).toEqual({
      id: "c1",
      model: "gpt-4o",
      content: "",
      toolCalls: [{ id: "call_1", name: "f", arguments: '{"a":1}' }],
      finishReason: "tool_calls",
      rawFinishReason: "tool_calls",
      usage: { inputTokens: 10, outputTokens: 2, cacheReadTokens: 4, reasoningTokens: 1, estimated: false },
    });
  });

  it("leaves usage undefined when the upstream sent none, and shows refusals as content", () => {
    const res = mapOpenAiResponse(
      {
        id: "c",
        model: "m",
        choices: [
          { index: 0, message: { role: "assistant", content: null, refusal: "no" }, finish_reason: "stop" },
        ],
      },
      "p",
    );
    expect(res.usage).toBeUndefined();
    expect(res.content).toBe("no");
  });

  it("rejects a completion without choices", () => {
    expect(() => mapOpenAiResponse({ id: "c", model: "m", choices: [] }, "p")).toThrow("without choices");
  });
});

describe("mapOpenAiFinishReason", () => {
  itMapsFinishReasons(mapOpenAiFinishReason, {
    stop: ["stop"],
    length: ["length"],
    contentFilter: ["content_filter"],
    toolCalls: ["tool_calls", "function_call"],
    other: ["eos"],
  });
});
