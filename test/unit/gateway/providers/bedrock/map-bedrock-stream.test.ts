import { describe, expect, it } from "vitest";
import type { ConverseStreamOutput } from "@aws-sdk/client-bedrock-runtime";
import type { ChatStreamEvent } from "../../../../../src/gateway/canonical/chat.js";
import { mapBedrockStream } from "../../../../../src/gateway/providers/bedrock/map-bedrock-stream.js";

const CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

async function run(events: ConverseStreamOutput[], model = CLAUDE): Promise<ChatStreamEvent[]> {
  async function* source() {
    yield* events;
  }
  const out: ChatStreamEvent[] = [];
  for await (const event of mapBedrockStream(source(), model, "bedrock test")) out.push(event);
  return out;
}

describe("mapBedrockStream", () => {
  it("renumbers tool calls from 0 although Bedrock counts text blocks too", async () => {
    const events = await run([
      { messageStart: { role: "assistant" } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { text: "Checking." } } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      { contentBlockStart: { contentBlockIndex: 1, start: { toolUse: { toolUseId: "a", name: "f" } } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: '{"x":' } } } },
      { contentBlockStart: { contentBlockIndex: 2, start: { toolUse: { toolUseId: "b", name: "g" } } } },
      { contentBlockDelta: { contentBlockIndex: 1, delta: { toolUse: { input: "1}" } } } },
      { contentBlockDelta: { contentBlockIndex: 2, delta: { toolUse: { input: "{}" } } } },
      { messageStop: { stopReason: "tool_use" } },
      {
        metadata: { usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 }, metrics: { latencyMs: 1 } },
      },
    ]);
    expect(events).toEqual([
      { type: "text-delta", text: "Checking." },
      { type: "tool-call-start", index: 0, id: "a", name: "f" },
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"x":' },
      { type: "tool-call-start", index: 1, id: "b", name: "g" },
      { type: "tool-call-delta", index: 0, argumentsDelta: "1}" },
      { type: "tool-call-delta", index: 1, argumentsDelta: "{}" },
      { type: "finish", finishReason: "tool_calls", rawFinishReason: "tool_use" },
      { type: "usage", usage: { inputTokens: 10, outputTokens: 5, estimated: false } },
    ]);
  });

  it("streams Claude's reasoning text, its signature and redacted reasoning as reasoning events", async () => {
    const redacted = Buffer.from("encrypted thoughts");
    const events = await run([
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: "hmm, " } } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { text: "Paris" } } } },
      { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { signature: "sig==" } } } },
      { contentBlockStop: { contentBlockIndex: 0 } },
      {
        contentBlockDelta: {
          contentBlockIndex: 1,
          delta: { reasoningContent: { redactedContent: redacted } },
        },
      },
      { contentBlockDelta: { contentBlockIndex: 2, delta: { text: "Hi" } } },
      { messageStop: { stopReason: "max_tokens" } },
    ]);
    expect(events).toEqual([
      { type: "reasoning-delta", text: "hmm, " },
      { type: "reasoning-delta", text: "Paris" },
      { type: "reasoning-signature", signature: { origin: "anthropic", value: "sig==" } },
      { type: "reasoning-redacted", data: { origin: "anthropic", value: redacted.toString("base64") } },
      { type: "text-delta", text: "Hi" },
      { type: "finish", finishReason: "length", rawFinishReason: "max_tokens" },
    ]);
  });

  it("signs another family's reasoning for that model only", async () => {
    const events = await run(
      [
        { contentBlockDelta: { contentBlockIndex: 0, delta: { reasoningContent: { signature: "s" } } } },
        { messageStop: { stopReason: "end_turn" } },
      ],
      "amazon.nova-2-lite-v1:0",
    );
    expect(events[0]).toEqual({
      type: "reasoning-signature",
      signature: { origin: "bedrock:amazon.nova-2-lite-v1:0", value: "s" },
    });
  });

  it("fails a stream that ends without messageStop", async () => {
    await expect(
      run([{ contentBlockDelta: { contentBlockIndex: 0, delta: { text: "Hi" } } }]),
    ).rejects.toMatchObject({
      errorClass: "upstream_unavailable",
      message: expect.stringMatching(/ended the stream before it finished/),
    });
  });
});
