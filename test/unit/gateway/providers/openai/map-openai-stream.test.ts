import type { EventSourceMessage } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import type { ChatStreamEvent } from "../../../../../src/gateway/canonical/chat.js";
import { mapOpenAiStream } from "../../../../../src/gateway/providers/openai/map-openai-stream.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

async function* sse(...data: unknown[]): AsyncGenerator<EventSourceMessage> {
  for (const item of data)
    yield { data: typeof item === "string" ? item : JSON.stringify(item), event: undefined, id: undefined };
}

async function run(...data: unknown[]): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const event of mapOpenAiStream(sse(...data), "p")) out.push(event);
  return out;
}

const delta = (d: Record<string, unknown>, finish: string | null = null) => ({
  choices: [{ index: 0, delta: d, finish_reason: finish }],
});
const usage = (prompt: number, completion: number) => ({
  choices: [],
  usage: { prompt_tokens: prompt, completion_tokens: completion },
});

describe("mapOpenAiStream", () => {
  it("accepts usage after the finish chunk and reports it once at the end", async () => {
    expect(
      await run(delta({ role: "assistant", content: "Hi" }), delta({}, "stop"), usage(5, 1), "[DONE]"),
    ).toEqual([
      { type: "text-delta", text: "Hi" },
      { type: "finish", finishReason: "stop", rawFinishReason: "stop" },
      { type: "usage", usage: { inputTokens: 5, outputTokens: 1, estimated: false } },
    ]);
  });

  it("keeps the last of cumulative usage reports (vLLM continuous usage stats)", async () => {
    const events = await run(
      { ...delta({ content: "a" }), usage: { prompt_tokens: 5, completion_tokens: 1 } },
      { ...delta({ content: "b" }), usage: { prompt_tokens: 5, completion_tokens: 2 } },
      { ...delta({}, "stop"), usage: { prompt_tokens: 5, completion_tokens: 3 } },
    );
    expect(events.filter((e) => e.type === "usage")).toEqual([
      { type: "usage", usage: { inputTokens: 5, outputTokens: 3, estimated: false } },
    ]);
  });

  it("reports no usage when the upstream sent none, or only nulls", async () => {
    const events = await run(
      { ...delta({ content: "a" }), usage: null },
      { ...delta({}, "stop"), usage: null },
      "[DONE]",
    );
    expect(events.some((e) => e.type === "usage")).toBe(false);
  });

  it("renumbers tool calls from 0 in order of appearance and forces tool_calls on stop", async () => {
    const events = await run(
      delta({
        tool_calls: [{ index: 3, id: "a", type: "function", function: { name: "f", arguments: "" } }],
      }),
      delta({ tool_calls: [{ index: 3, function: { arguments: '{"x"' } }] }),
      delta({
        tool_calls: [{ index: 5, id: "b", type: "function", function: { name: "g", arguments: "{}" } }],
      }),
      delta({ tool_calls: [{ index: 3, function: { arguments: ":1}" } }] }),
      delta({}, "stop"),
    );
    expect(events).toEqual([
      { type: "tool-call-start", index: 0, id: "a", name: "f" },
      { type: "tool-call-delta", index: 0, argumentsDelta: '{"x"' },
      { type: "tool-call-start", index: 1, id: "b", name: "g" },
      { type: "tool-call-delta", index: 1, argumentsDelta: "{}" },
      { type: "tool-call-delta", index: 0, argumentsDelta: ":1}" },
      { type: "finish", finishReason: "tool_calls", rawFinishReason: "stop" },
    ]);
  });

  it("streams refusals as text and ignores Azure's empty prompt-filter chunk", async () => {
    const events = await run(
      { id: "", choices: [], prompt_filter_results: [] },
      delta({ refusal: "I can't" }),
      delta({}, "stop"),
    );
    expect(events[0]).toEqual({ type: "text-delta", text: "I can't" });
  });

  it("throws a GatewayError for an error event, a stream cut before finish, and non-JSON data", async () => {
    const inStream = await run(delta({ content: "a" }), {
      error: { message: "overloaded", type: "server_error" },
    }).catch((e: unknown) => e);
    expect(inStream).toBeInstanceOf(GatewayError);
    expect((inStream as GatewayError).errorClass).toBe("upstream_unavailable");
    await expect(run(delta({ content: "a" }))).rejects.toThrow("ended the stream before it finished");
    await expect(run("not json")).rejects.toThrow("not JSON");
  });
});
