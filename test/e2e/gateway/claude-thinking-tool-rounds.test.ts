import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import {
  ANTHROPIC_WEATHER_TOOLS,
  CLAUDE_WIRES,
  OPENAI_WEATHER_TOOLS,
  useReasoningGateway,
} from "./reasoning-upstreams.js";

/**
 * Claude thinking through a tool loop of several rounds, on each platform that serves Claude, with
 * the history each official SDK writes. The fakes think in every step (as interleaved thinking
 * does) and refuse a step whose assistant turns do not come back starting with their signed
 * thinking, unchanged; on top of that the test reads what the upstream received.
 */

const clients = useReasoningGateway();

// Every Claude fake answers this with one call per step: Paris, then London, then the answer.
const PROMPT = "What is the weather in Paris and London? One city at a time.";
const FORECAST: Record<string, string> = { Paris: "sunny in Paris", London: "rain in London" };
const THINKING = { type: "enabled" as const, budget_tokens: 2048 };

type Json = Record<string, unknown>;

const cityOf = (args: unknown): string =>
  (typeof args === "string" ? (JSON.parse(args) as { city: string }) : (args as { city: string })).city;

describe.each(CLAUDE_WIRES)("$model: thinking through two tool rounds", (wire) => {
  const { model } = wire;
  /** The assistant turns the upstream last received. */
  const sentTurns = () => wire.assistantTurns(wire.fake(clients.upstreams).requests.at(-1)!.json as Json);

  it.each([false, true])("anthropic SDK (streamed: %s)", async (stream) => {
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: PROMPT }];
    const ask = () => {
      const request = {
        model,
        max_tokens: 4096,
        thinking: THINKING,
        messages,
        tools: ANTHROPIC_WEATHER_TOOLS,
      };
      return stream
        ? clients.anthropic.messages.stream(request).finalMessage()
        : clients.anthropic.messages.create(request);
    };
    const turns: Anthropic.ContentBlock[][] = [];
    for (const city of ["Paris", "London"]) {
      const reply = await ask();
      expect(reply.stop_reason).toBe("tool_use");
      expect(reply.content[0]).toMatchObject({ type: "thinking", signature: expect.any(String) });
      const use = reply.content.find((b) => b.type === "tool_use")!;
      expect(cityOf(use.input)).toBe(city);
      turns.push(reply.content);
      messages.push({ role: "assistant", content: reply.content });
      messages.push({
        role: "user",
        content: [{ type: "tool_result", tool_use_id: use.id, content: FORECAST[city]! }],
      });
    }
    const final = await ask();
    expect(final.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect(final.content[1]).toMatchObject({ text: `Tool result: ${FORECAST.London}` });
    // Both steps went back whole: signed thinking first, unchanged, then the call.
    const strip = (blocks: Anthropic.ContentBlock[]) =>
      blocks.map((b) =>
        b.type === "thinking"
          ? { type: b.type, thinking: b.thinking, signature: b.signature }
          : b.type === "tool_use"
            ? { type: b.type, id: b.id, name: b.name, input: b.input }
            : { type: b.type, text: (b as Anthropic.TextBlock).text },
      );
    expect(sentTurns()).toEqual(turns.map(strip));
  });

  it.each([false, true])("openai SDK with reasoning_effort (streamed: %s)", async (stream) => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: PROMPT }];
    const ask = async () => {
      const request = {
        model,
        messages,
        tools: OPENAI_WEATHER_TOOLS,
        reasoning_effort: "low" as const,
        max_completion_tokens: 4096,
      };
      const completion = stream
        ? await clients.openai.chat.completions.stream({ ...request, stream: true }).finalChatCompletion()
        : await clients.openai.chat.completions.create(request);
      return completion.choices[0]!;
    };
    const thoughts: string[] = [];
    for (const city of ["Paris", "London"]) {
      const reply = await ask();
      expect(reply.finish_reason).toBe("tool_calls");
      const [call] = (reply.message.tool_calls ?? []).filter((c) => c.type === "function");
      if (!call) throw new Error("expected a function call");
      expect(cityOf(call.function.arguments)).toBe(city);
      // The stream's final completion keeps only fields the SDK knows; the wire sent reasoning_content.
      if (!stream) thoughts.push((reply.message as { reasoning_content?: string }).reasoning_content!);
      messages.push(reply.message as OpenAI.ChatCompletionMessageParam);
      messages.push({ role: "tool", tool_call_id: call.id, content: FORECAST[city]! });
    }
    const final = await ask();
    expect(final.message.content).toBe(`Tool result: ${FORECAST.London}`);
    const sent = sentTurns();
    expect(sent).toHaveLength(2);
    for (const turn of sent) {
      expect(turn[0]).toMatchObject({ type: "thinking", signature: expect.any(String) });
      expect(turn.at(-1)).toMatchObject({ type: "tool_use" });
    }
    if (!stream) expect(sent.map((turn) => turn[0]!.thinking)).toEqual(thoughts);
  });
});

describe("a reasoning conversation that moves to another provider", () => {
  const continueOn = (model: string, messages: Anthropic.MessageParam[]) =>
    clients.anthropic.messages.create({
      model,
      max_tokens: 4096,
      thinking: THINKING,
      tools: ANTHROPIC_WEATHER_TOOLS,
      messages,
    });

  const firstTurn = async (): Promise<Anthropic.MessageParam[]> => {
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "What is the weather in Oslo?" }];
    const reply = await continueOn("claude", messages);
    const use = reply.content.find((b) => b.type === "tool_use")!;
    return [
      ...messages,
      { role: "assistant", content: reply.content },
      { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "snow" }] },
    ];
  };

  it("keeps Claude's signed thinking when Claude on Bedrock continues the tool loop", async () => {
    const messages = await firstTurn();
    const reply = await continueOn("claude-bedrock", messages);
    expect(reply.content.at(-1)).toMatchObject({ text: "Tool result: snow" });
    const [turn] = CLAUDE_WIRES[2]!.assistantTurns(clients.upstreams.bedrock.requests.at(-1)!.json as Json);
    expect(turn![0]).toEqual(messages[1]!.content[0]);
  });

  it("strips Claude's thinking when Gemini continues it, and Gemini answers", async () => {
    const messages = await firstTurn();
    const reply = await continueOn("gemini-3", messages);
    expect(reply.content.at(-1)).toMatchObject({ text: 'Tool result: {"output":"snow"}' });
    const body = clients.upstreams.vertex.requests.at(-1)!.json as { contents: Array<{ parts: Json[] }> };
    const modelParts = body.contents[1]!.parts;
    expect(modelParts.some((p) => p.thought === true)).toBe(false);
    expect(JSON.stringify(body.contents)).not.toContain("Thinking about");
    expect(modelParts.at(-1)).toMatchObject({
      functionCall: { name: "get_weather", args: { city: "Oslo" } },
    });
  });
});
