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
 * Reasoning end to end through the official SDKs: a client asks for thinking, sees it (Anthropic
 * thinking blocks with signatures, OpenAI `reasoning_content`), and continues a tool loop with the
 * history its SDK writes; the upstream fakes refuse what the real APIs refuse (unsigned or altered
 * thinking, a tool loop whose assistant turn lost its thinking).
 */

const clients = useReasoningGateway();

const PROMPT = "What is the weather in Paris?";
const THINKING = { type: "enabled" as const, budget_tokens: 2048 };

type Json = Record<string, unknown>;
const lastBody = (fake: { requests: Array<{ json?: unknown }> }): Json => fake.requests.at(-1)!.json as Json;

describe.each(CLAUDE_WIRES)("$model: Anthropic SDK with extended thinking", (wire) => {
  const { model } = wire;
  const fake = () => wire.fake(clients.upstreams);

  it.each([false, true])(
    "thinks, calls a tool and continues with its thinking (streamed: %s)",
    async (stream) => {
      const messages: Anthropic.MessageParam[] = [
        { role: "user", content: `${PROMPT} TRIGGER_REDACTED_THINKING` },
      ];
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
      const first = await ask();
      expect(wire.thinking(lastBody(fake()))).toEqual(THINKING);
      expect(first.content.map((b) => b.type)).toEqual(["thinking", "redacted_thinking", "text", "tool_use"]);
      const thinking = first.content[0] as Anthropic.ThinkingBlock;
      expect(thinking.thinking).toContain(PROMPT);
      expect(thinking.signature).not.toBe("");

      const use = first.content.find((b) => b.type === "tool_use")!;
      messages.push({ role: "assistant", content: first.content });
      messages.push({
        role: "user",
        content: [{ type: "tool_result", tool_use_id: use.id, content: "sunny" }],
      });
      const second = await ask();
      expect(second.content.map((b) => b.type)).toEqual(["thinking", "text"]);
      expect(second.content[1]).toMatchObject({ text: "Tool result: sunny" });
      // The blocks went back unchanged and first, as Claude requires.
      const history = wire.assistantTurns(lastBody(fake()))[0]!;
      expect(history.slice(0, 2)).toEqual([
        { type: "thinking", thinking: thinking.thinking, signature: thinking.signature },
        first.content[1],
      ]);
    },
  );

  it("refuses thinking whose signature was tampered with, as Claude does", async () => {
    const first = await clients.anthropic.messages.create({
      model,
      max_tokens: 4096,
      thinking: THINKING,
      tools: ANTHROPIC_WEATHER_TOOLS,
      messages: [{ role: "user", content: PROMPT }],
    });
    const [thinking, ...rest] = first.content as [Anthropic.ThinkingBlock, ...Anthropic.ContentBlock[]];
    const use = rest.find((b) => b.type === "tool_use")!;
    await expect(
      clients.anthropic.messages.create({
        model,
        max_tokens: 4096,
        thinking: THINKING,
        tools: ANTHROPIC_WEATHER_TOOLS,
        messages: [
          { role: "user", content: PROMPT },
          {
            role: "assistant",
            content: [{ ...thinking, thinking: `${thinking.thinking} (edited)` }, ...rest],
          },
          { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "sunny" }] },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining("signature") });
  });
});

describe("claude: OpenAI SDK with reasoning_effort", () => {
  it.each([false, true])(
    "gets reasoning_content apart from content and keeps a tool loop going (streamed: %s)",
    async (stream) => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: PROMPT }];
      const ask = async () => {
        const request = {
          model: "claude",
          messages,
          tools: OPENAI_WEATHER_TOOLS,
          reasoning_effort: "low" as const,
          max_completion_tokens: 4096,
        };
        if (!stream) return clients.openai.chat.completions.create(request);
        let reasoning = "";
        const runner = clients.openai.chat.completions.stream({ ...request, stream: true });
        runner.on("chunk", (chunk) => {
          reasoning +=
            (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? "";
        });
        const completion = await runner.finalChatCompletion();
        return { ...completion, streamedReasoning: reasoning };
      };
      const first = await ask();
      expect(lastBody(clients.upstreams.anthropic).thinking).toEqual({
        type: "enabled",
        budget_tokens: 2048,
      });
      const message = first.choices[0]!.message;
      const reasoning =
        "streamedReasoning" in first
          ? first.streamedReasoning
          : (message as { reasoning_content?: string }).reasoning_content;
      expect(reasoning).toContain(PROMPT);
      expect(message.content).toBe("Let me check the weather.");
      const call = message.tool_calls![0]!;

      messages.push(message as OpenAI.ChatCompletionMessageParam);
      messages.push({ role: "tool", tool_call_id: call.id, content: "sunny" });
      const second = await ask();
      expect(second.choices[0]!.message.content).toBe("Tool result: sunny");
      const history = (lastBody(clients.upstreams.anthropic).messages as Json[])[1]!.content as Json[];
      expect(history[0]).toMatchObject({ type: "thinking", thinking: reasoning });
    },
  );
});

describe("gemini: thought summaries", () => {
  it("maps reasoning_effort to a thinking level and reports thoughts and their tokens", async () => {
    const reply = await clients.openai.chat.completions.create({
      model: "gemini-3",
      messages: [{ role: "user", content: "Hello" }],
      reasoning_effort: "high",
    });
    expect((lastBody(clients.upstreams.vertex).generationConfig as Json).thinkingConfig).toEqual({
      includeThoughts: true,
      thinkingLevel: "HIGH",
    });
    const message = reply.choices[0]!.message as { content: string; reasoning_content?: string };
    expect(message.content).toBe("You said: Hello");
    expect(message.reasoning_content).toContain("Thinking");
    expect(reply.usage!.completion_tokens_details?.reasoning_tokens).toBeGreaterThan(0);
    expect(reply.usage!.completion_tokens).toBeGreaterThan(
      reply.usage!.completion_tokens_details!.reasoning_tokens!,
    );
  });

  it("shows them to an Anthropic client as unsigned thinking, which Claude never receives back", async () => {
    const request = {
      max_tokens: 4096,
      thinking: THINKING,
      messages: [{ role: "user" as const, content: "Hello" }],
    };
    const fromGemini = await clients.anthropic.messages
      .stream({ ...request, model: "gemini-2.5" })
      .finalMessage();
    expect((lastBody(clients.upstreams.vertex).generationConfig as Json).thinkingConfig).toEqual({
      includeThoughts: true,
      thinkingBudget: 2048,
    });
    expect(fromGemini.content).toEqual(
      [
        { type: "thinking", thinking: expect.stringContaining("Thinking"), signature: "" },
        { type: "text", text: "You said: Hello", citations: null },
      ].map((block) =>
        expect.objectContaining(Object.fromEntries(Object.entries(block).filter(([k]) => k !== "citations"))),
      ),
    );

    // The conversation falls over to Claude: Gemini's thinking is left out rather than refused.
    const reply = await clients.anthropic.messages.create({
      ...request,
      model: "claude",
      messages: [
        ...request.messages,
        { role: "assistant", content: fromGemini.content },
        { role: "user", content: "Again" },
      ],
    });
    expect(reply.content.at(-1)).toMatchObject({ text: "You said: Again" });
    const sent = lastBody(clients.upstreams.anthropic).messages as Json[];
    expect((sent[1]!.content as Json[]).map((b) => b.type)).toEqual(["text"]);
  });
});
