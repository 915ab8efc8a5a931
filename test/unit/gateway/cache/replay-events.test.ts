import { describe, expect, it } from "vitest";
import type { ChatResponse, ChatStreamEvent } from "../../../../src/gateway/canonical/chat.js";
import { eventsFromResponse, responseFromEvents } from "../../../../src/gateway/cache/replay-events.js";

const response: ChatResponse = {
  id: "r1",
  model: "m",
  content: "Checking.",
  toolCalls: [{ id: "call_1", name: "get_weather", arguments: '{"city":"Paris"}' }],
  finishReason: "tool_calls",
  rawFinishReason: "tool_use",
  usage: { inputTokens: 12, outputTokens: 7, estimated: false },
};

describe("cached replies", () => {
  it("turn a response into the stream events that produce it, ending with usage", () => {
    const events = eventsFromResponse(response);
    expect(events).toEqual([
      { type: "text-delta", text: "Checking." },
      { type: "tool-call-start", index: 0, id: "call_1", name: "get_weather" },
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"city":"Paris"}' },
      { type: "finish", finishReason: "tool_calls", rawFinishReason: "tool_use" },
      { type: "usage", usage: response.usage },
    ]);
    expect(responseFromEvents(events, "r1", "m")).toEqual(response);
  });

  it("assemble a chunked stream into one response", () => {
    const events: ChatStreamEvent[] = [
      { type: "text-delta", text: "Hel" },
      { type: "text-delta", text: "lo" },
      { type: "tool-call-start", index: 0, id: "c", name: "f" },
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"a"' },
      { type: "tool-call-delta", index: 0, argumentsDelta: ":1}" },
      { type: "finish", finishReason: "stop", rawFinishReason: "stop" },
    ];
    expect(responseFromEvents(events, "x", "m")).toMatchObject({
      content: "Hello",
      toolCalls: [{ id: "c", name: "f", arguments: '{"a":1}' }],
      finishReason: "stop",
    });
  });

  it("refuse a stream that never finished (it must not be cached)", () => {
    expect(responseFromEvents([{ type: "text-delta", text: "partial" }], "x", "m")).toBeUndefined();
  });
});
