import { describe, expect, it } from "vitest";
import type { ConverseCommandOutput } from "@aws-sdk/client-bedrock-runtime";
import { mapBedrockFinishReason } from "../../../../../src/gateway/providers/bedrock/map-bedrock-finish-reason.js";
import { mapBedrockResponse } from "../../../../../src/gateway/providers/bedrock/map-bedrock-response.js";
import { mapBedrockUsage } from "../../../../../src/gateway/providers/bedrock/map-bedrock-usage.js";
import { itMapsFinishReasons } from "../finish-reason-contract.js";

function output(partial: Partial<ConverseCommandOutput>): ConverseCommandOutput {
  return {
    $metadata: { requestId: "req-1" },
    output: undefined,
    stopReason: undefined,
    usage: undefined,
    metrics: undefined,
    ...partial,
  };
}

describe("mapBedrockResponse", () => {
  it("joins text blocks and turns toolUse blocks into tool calls with JSON arguments", () => {
    const response = mapBedrockResponse(
      output({
        output: {
          message: {
            role: "assistant",
            content: [
              { text: "Let me " },
              { text: "check." },
              { toolUse: { toolUseId: "t1", name: "get_weather", input: { city: "Oslo" } } },
            ],
          },
        },
        stopReason: "tool_use",
        usage: { inputTokens: 12, outputTokens: 7, totalTokens: 19 },
      }),
      "m",
      "bedrock test",
    );
    expect(response).toEqual({
      id: "req-1",
      model: "m",
      content: "Let me check.",
      toolCalls: [{ id: "t1", name: "get_weather", arguments: '{"city":"Oslo"}' }],
      finishReason: "tool_calls",
      rawFinishReason: "tool_use",
      usage: { inputTokens: 12, outputTokens: 7, estimated: false },
    });
  });

  it("returns reasoningContent as reasoning: Claude's signed for Claude anywhere, unsigned as it came", () => {
    const claude = mapBedrockResponse(
      output({
        output: {
          message: {
            role: "assistant",
            content: [
              { reasoningContent: { reasoningText: { text: "Think.", signature: "sig" } } },
              { reasoningContent: { redactedContent: Buffer.from("opaque") } },
              { text: "Hi" },
            ],
          },
        },
        stopReason: "end_turn",
      }),
      "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
      "bedrock test",
    );
    expect(claude.content).toBe("Hi");
    expect(claude.reasoning).toEqual([
      { type: "thinking", text: "Think.", signature: { origin: "anthropic", value: "sig" } },
      { type: "redacted", data: { origin: "anthropic", value: Buffer.from("opaque").toString("base64") } },
    ]);
    const deepseek = mapBedrockResponse(
      output({
        output: {
          message: { role: "assistant", content: [{ reasoningContent: { reasoningText: { text: "R1" } } }] },
        },
      }),
      "us.deepseek.r1-v1:0",
      "bedrock test",
    );
    expect(deepseek.reasoning).toEqual([{ type: "thinking", text: "R1" }]);
  });

  it("leaves usage undefined when Bedrock sent none, and fails without a message", () => {
    const response = mapBedrockResponse(
      output({
        output: { message: { role: "assistant", content: [{ text: "x" }] } },
        stopReason: "end_turn",
      }),
      "m",
      "b",
    );
    expect(response.usage).toBeUndefined();
    expect(() => mapBedrockResponse(output({}), "m", "b")).toThrow(/without a message/);
  });
});

describe("mapBedrockFinishReason", () => {
  itMapsFinishReasons(mapBedrockFinishReason, {
    stop: ["end_turn", "stop_sequence"],
    length: ["max_tokens", "model_context_window_exceeded"],
    contentFilter: ["guardrail_intervened", "content_filtered"],
    toolCalls: ["tool_use"],
    other: ["malformed_tool_use"],
  });
});

describe("mapBedrockUsage", () => {
  it("counts cache reads and writes in the input total and reports them alongside", () => {
    expect(
      mapBedrockUsage({
        inputTokens: 10,
        outputTokens: 3,
        totalTokens: 113,
        cacheReadInputTokens: 80,
        cacheWriteInputTokens: 20,
      }),
    ).toEqual({
      inputTokens: 110,
      outputTokens: 3,
      cacheReadTokens: 80,
      cacheWriteTokens: 20,
      estimated: false,
    });
    expect(mapBedrockUsage(undefined)).toBeUndefined();
  });
});
