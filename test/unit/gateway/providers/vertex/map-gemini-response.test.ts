import { describe, expect, it } from "vitest";
import { mapGeminiResponse } from "../../../../../src/gateway/providers/vertex/map-gemini-response.js";
import { mapGeminiFinishReason } from "../../../../../src/gateway/providers/vertex/map-gemini-finish-reason.js";
import { mapGeminiUsage } from "../../../../../src/gateway/providers/vertex/map-gemini-usage.js";
import { itMapsFinishReasons } from "../finish-reason-contract.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const NAME = "vertex provider ai/vertex";

describe("mapGeminiResponse", () => {
  it("joins answer text, keeps thought summaries apart as reasoning, and keeps usage", () => {
    const response = mapGeminiResponse(
      {
        responseId: "resp-1",
        modelVersion: "gemini-2.5-flash-001",
        candidates: [
          {
            content: {
              role: "model",
              parts: [{ text: "thinking...", thought: true }, { text: "Hello" }, { text: " world" }],
            },
            finishReason: "STOP",
          },
        ],
        usageMetadata: {
          promptTokenCount: 12,
          candidatesTokenCount: 3,
          thoughtsTokenCount: 20,
          cachedContentTokenCount: 8,
        },
      },
      "gemini-2.5-flash",
      NAME,
    );
    expect(response).toEqual({
      id: "resp-1",
      model: "gemini-2.5-flash-001",
      content: "Hello world",
      toolCalls: [],
      reasoning: [{ type: "thinking", text: "thinking..." }],
      finishReason: "stop",
      rawFinishReason: "STOP",
      usage: { inputTokens: 12, outputTokens: 23, cacheReadTokens: 8, reasoningTokens: 20, estimated: false },
    });
  });

  it("gives function calls ids that are unique per response and stable within it", () => {
    const body = {
      responseId: "abc",
      candidates: [
        {
          content: {
            parts: [
              { functionCall: { name: "a", args: { x: 1 } } },
              { functionCall: { name: "b" } },
              { functionCall: { id: "upstream-id", name: "c", args: {} } },
            ],
          },
          finishReason: "STOP",
        },
      ],
    };
    const first = mapGeminiResponse(body, "m", NAME);
    expect(first.toolCalls).toEqual([
      { id: "call_abc_0", name: "a", arguments: '{"x":1}' },
      { id: "call_abc_1", name: "b", arguments: "{}" },
      { id: "upstream-id", name: "c", arguments: "{}" },
    ]);
    expect(first.finishReason).toBe("tool_calls");
    const other = mapGeminiResponse({ ...body, responseId: "def" }, "m", NAME);
    expect(other.toolCalls[0]!.id).not.toBe(first.toolCalls[0]!.id);
  });

  it("reports a blocked prompt as content_filter and leaves usage undefined when absent", () => {
    const response = mapGeminiResponse({ promptFeedback: { blockReason: "PROHIBITED_CONTENT" } }, "m", NAME);
    expect(response).toMatchObject({
      content: "",
      finishReason: "content_filter",
      rawFinishReason: "PROHIBITED_CONTENT",
      usage: undefined,
    });
  });

  it("fails on a response with neither candidates nor a block reason", () => {
    expect(() => mapGeminiResponse({}, "m", NAME)).toThrow(GatewayError);
  });
});

describe("mapGeminiFinishReason", () => {
  itMapsFinishReasons(mapGeminiFinishReason, {
    stop: ["STOP"],
    length: ["MAX_TOKENS"],
    contentFilter: ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"],
    // Gemini finishes with STOP after function calls: it has no reason of its own for them.
    toolCalls: [],
    other: ["MALFORMED_FUNCTION_CALL", "OTHER"],
  });
});

describe("mapGeminiUsage", () => {
  it("is undefined without token counts rather than zero", () => {
    expect(mapGeminiUsage(undefined)).toBeUndefined();
    expect(mapGeminiUsage({ totalTokenCount: 5 })).toBeUndefined();
    expect(mapGeminiUsage({ promptTokenCount: 5 })).toEqual({
      inputTokens: 5,
      outputTokens: 0,
      estimated: false,
    });
  });
});
