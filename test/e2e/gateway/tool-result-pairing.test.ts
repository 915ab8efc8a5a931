import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { ANTHROPIC_WEATHER_TOOLS, OPENAI_WEATHER_TOOLS, useReasoningGateway } from "./reasoning-upstreams.js";

/**
 * Parallel tool calls answered in another order than the model made them (which both client APIs
 * allow) must still reach the upstream paired with their own calls. Gemini pairs function
 * responses with calls by position, so the gateway has to order them by call.
 */

const clients = useReasoningGateway();

const PROMPT = "What is the weather in Paris and London?";
const FORECAST: Record<string, string> = { Paris: "sunny in Paris", London: "rain in London" };

const cityOf = (args: string | unknown): string =>
  (typeof args === "string" ? (JSON.parse(args) as { city: string }) : (args as { city: string })).city;

/** The answer the Vertex fake gives names the call each result was paired with. */
function expectPairedByCall(answer: string): void {
  expect(answer).toContain(`{"city":"Paris"} -> {"output":"${FORECAST.Paris}"}`);
  expect(answer).toContain(`{"city":"London"} -> {"output":"${FORECAST.London}"}`);
}

describe.each(["gemini-2.5", "gemini-3"])("%s: parallel tool results answered out of order", (model) => {
  it.each([false, true])("openai SDK (streamed: %s)", async (stream) => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: PROMPT }];
    const first = stream
      ? await clients.openai.chat.completions
          .stream({ model, messages, tools: OPENAI_WEATHER_TOOLS, stream: true })
          .finalChatCompletion()
      : await clients.openai.chat.completions.create({ model, messages, tools: OPENAI_WEATHER_TOOLS });
    const assistant = first.choices[0]!.message;
    const calls = (assistant.tool_calls ?? []).filter((c) => c.type === "function");
    expect(calls.map((c) => cityOf(c.function.arguments))).toEqual(["Paris", "London"]);

    messages.push(assistant as OpenAI.ChatCompletionMessageParam);
    for (const call of [...calls].reverse())
      messages.push({
        role: "tool",
        tool_call_id: call.id,
        content: FORECAST[cityOf(call.function.arguments)]!,
      });
    const second = await clients.openai.chat.completions.create({
      model,
      messages,
      tools: OPENAI_WEATHER_TOOLS,
    });
    expectPairedByCall(second.choices[0]!.message.content ?? "");
  });

  it.each([false, true])("anthropic SDK (streamed: %s)", async (stream) => {
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: PROMPT }];
    const request = { model, max_tokens: 1024, messages, tools: ANTHROPIC_WEATHER_TOOLS };
    const first = stream
      ? await clients.anthropic.messages.stream(request).finalMessage()
      : await clients.anthropic.messages.create(request);
    const uses = first.content.filter((b) => b.type === "tool_use");
    expect(uses.map((b) => cityOf(b.input))).toEqual(["Paris", "London"]);

    messages.push({ role: "assistant", content: first.content });
    messages.push({
      role: "user",
      content: [...uses].reverse().map((b) => ({
        type: "tool_result" as const,
        tool_use_id: b.id,
        content: FORECAST[cityOf(b.input)]!,
      })),
    });
    const second = await clients.anthropic.messages.create({ ...request, messages });
    expectPairedByCall(second.content.map((b) => (b.type === "text" ? b.text : "")).join(""));
  });
});
