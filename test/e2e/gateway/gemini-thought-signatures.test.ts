import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { ANTHROPIC_WEATHER_TOOLS, OPENAI_WEATHER_TOOLS, useReasoningGateway } from "./reasoning-upstreams.js";

/**
 * Gemini signs its function calls (thoughtSignature) and Gemini 3 refuses history whose calls lost
 * their signatures. Clients of either API only echo tool call ids, so the signatures must survive
 * in them: a conversation with two tool rounds, as each SDK's own loop writes it.
 */

const clients = useReasoningGateway();

// The Vertex fake answers this with one call per step: Paris, then London, then the answer.
const PROMPT = "What is the weather in Paris and London? One city at a time.";
const FORECAST: Record<string, string> = { Paris: "sunny in Paris", London: "rain in London" };

const cityOf = (args: unknown): string =>
  (typeof args === "string" ? (JSON.parse(args) as { city: string }) : (args as { city: string })).city;

type Json = Record<string, unknown>;

/** The function-call parts of the last request Vertex received, with their signatures. */
function callsVertexSaw(): Array<{ city: string; signed: string | undefined }> {
  const body = clients.upstreams.vertex.requests.at(-1)!.json as { contents: Array<{ parts: Json[] }> };
  return body.contents.flatMap((c) =>
    c.parts.flatMap((p) =>
      p.functionCall
        ? [{ city: cityOf((p.functionCall as Json).args), signed: p.thoughtSignature as string | undefined }]
        : [],
    ),
  );
}

/** Both calls went back with a signature Gemini issued, not a stand-in. */
function expectSignedHistory(): void {
  expect(callsVertexSaw()).toEqual([
    { city: "Paris", signed: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/) },
    { city: "London", signed: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/) },
  ]);
}

describe.each(["gemini-3", "gemini-2.5"])("%s: two tool rounds keep every thought signature", (model) => {
  it.each([false, true])("openai SDK (streamed: %s)", async (stream) => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: PROMPT }];
    const ask = () =>
      stream
        ? clients.openai.chat.completions
            .stream({ model, messages, tools: OPENAI_WEATHER_TOOLS, stream: true })
            .finalChatCompletion()
        : clients.openai.chat.completions.create({ model, messages, tools: OPENAI_WEATHER_TOOLS });
    for (const city of ["Paris", "London"]) {
      const reply = (await ask()).choices[0]!;
      expect(reply.finish_reason).toBe("tool_calls");
      const [call] = (reply.message.tool_calls ?? []).filter((c) => c.type === "function");
      expect(cityOf(call!.function.arguments)).toBe(city);
      messages.push(reply.message as OpenAI.ChatCompletionMessageParam);
      messages.push({ role: "tool", tool_call_id: call!.id, content: FORECAST[city]! });
    }
    const final = (await ask()).choices[0]!;
    expect(final.message.content).toBe(`Tool result: {"output":"${FORECAST.London}"}`);
    expectSignedHistory();
  });

  it.each([false, true])("anthropic SDK (streamed: %s)", async (stream) => {
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: PROMPT }];
    const ask = () => {
      const request = { model, max_tokens: 1024, messages, tools: ANTHROPIC_WEATHER_TOOLS };
      return stream
        ? clients.anthropic.messages.stream(request).finalMessage()
        : clients.anthropic.messages.create(request);
    };
    for (const city of ["Paris", "London"]) {
      const reply = await ask();
      expect(reply.stop_reason).toBe("tool_use");
      const [use] = reply.content.filter((b) => b.type === "tool_use");
      expect(cityOf(use!.input)).toBe(city);
      messages.push({ role: "assistant", content: reply.content });
      messages.push({
        role: "user",
        content: [{ type: "tool_result", tool_use_id: use!.id, content: FORECAST[city]! }],
      });
    }
    const final = await ask();
    expect(final.content).toEqual([{ type: "text", text: `Tool result: {"output":"${FORECAST.London}"}` }]);
    expectSignedHistory();
  });
});

describe("gemini-3: history Gemini did not write", () => {
  it("answers tool calls made by another model, which carry no signature", async () => {
    const reply = await clients.openai.chat.completions.create({
      model: "gemini-3",
      tools: OPENAI_WEATHER_TOOLS,
      messages: [
        { role: "user", content: "What is the weather in Oslo?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "toolu_01",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "toolu_01", content: "snow" },
      ],
    });
    expect(reply.choices[0]!.message.content).toBe('Tool result: {"output":"snow"}');
  });
});
