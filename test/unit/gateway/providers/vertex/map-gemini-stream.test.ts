import { describe, expect, it } from "vitest";
import type { EventSourceMessage } from "eventsource-parser";
import type { ChatStreamEvent } from "../../../../../src/gateway/canonical/chat.js";
import { mapGeminiStream } from "../../../../../src/gateway/providers/vertex/map-gemini-stream.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const NAME = "vertex provider ai/vertex";

async function* sse(...chunks: unknown[]): AsyncGenerator<EventSourceMessage> {
  for (const chunk of chunks) yield { data: JSON.stringify(chunk), event: undefined, id: undefined };
}

async function collect(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const events: ChatStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe("mapGeminiStream", () => {
  it("yields text deltas, one finish and the final cumulative usage", async () => {
    const events = await collect(
      mapGeminiStream(
        sse(
          {
            responseId: "r",
            candidates: [{ content: { parts: [{ text: "Hel" }] } }],
            usageMetadata: { promptTokenCount: 4 },
          },
          {
            responseId: "r",
            candidates: [{ content: { parts: [{ text: "lo" }] }, finishReason: "STOP" }],
            usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2 },
          },
        ),
        NAME,
      ),
    );
    expect(events).toEqual([
      { type: "text-delta", text: "Hel" },
      { type: "text-delta", text: "lo" },
      { type: "finish", finishReason: "stop", rawFinishReason: "STOP" },
      { type: "usage", usage: { inputTokens: 4, outputTokens: 2, estimated: false } },
    ]);
  });

  it("emits each whole function call as a start and a single delta, indexed from 0", async () => {
    const events = await collect(
      mapGeminiStream(
        sse({
          responseId: "r9",
          candidates: [
            {
              content: {
                parts: [
                  { functionCall: { name: "a", args: { city: "Oslo" } } },
                  { functionCall: { name: "b", args: {} } },
                ],
              },
              finishReason: "STOP",
            },
          ],
        }),
        NAME,
      ),
    );
    expect(events).toEqual([
      { type: "tool-call-start", index: 0, id: "call_r9_0", name: "a" },
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"city":"Oslo"}' },
      { type: "tool-call-start", index: 1, id: "call_r9_1", name: "b" },
      { type: "tool-call-delta", index: 1, argumentsDelta: "{}" },
      { type: "finish", finishReason: "tool_calls", rawFinishReason: "STOP" },
    ]);
  });

  it("finishes with content_filter when the prompt is blocked", async () => {
    const events = await collect(
      mapGeminiStream(
        sse({ promptFeedback: { blockReason: "SAFETY" }, usageMetadata: { promptTokenCount: 3 } }),
        NAME,
      ),
    );
    expect(events[0]).toEqual({ type: "finish", finishReason: "content_filter", rawFinishReason: "SAFETY" });
  });

  it("throws a GatewayError for an error object inside the stream", async () => {
    const stream = mapGeminiStream(
      sse(
        { candidates: [{ content: { parts: [{ text: "a" }] } }] },
        { error: { code: 429, message: "Resource exhausted.", status: "RESOURCE_EXHAUSTED" } },
      ),
      NAME,
    );
    const err = await collect(stream).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).errorClass).toBe("rate_limit");
  });

  it("throws when the stream ends without a finish reason", async () => {
    await expect(
      collect(mapGeminiStream(sse({ candidates: [{ content: { parts: [{ text: "a" }] } }] }), NAME)),
    ).rejects.toMatchObject({
      errorClass: "upstream_unavailable",
    });
  });
});
