import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { useReasoningGateway } from "./reasoning-upstreams.js";

/**
 * What thinking costs, as a client and an operator see it: the OpenAI SDK asks a reasoning model
 * for an effort, gets the thinking tokens in `completion_tokens_details.reasoning_tokens` (part of
 * `completion_tokens`), and the request's logged cost prices them as output. The fakes' reasoning
 * models report 512 thinking tokens at effort high.
 */

const clients = useReasoningGateway();

// The routes' list prices (reasoning-upstreams.ts): $1 per 1M input tokens, $10 per 1M output.
const costOf = (usage: OpenAI.CompletionUsage) =>
  (usage.prompt_tokens * 1 + usage.completion_tokens * 10) / 1e6;

interface RequestLine {
  route: string;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens?: number;
  costUsd: number;
}

function lastRequestLine(route: string): RequestLine {
  const lines = clients.gateway.logs
    .map((line) => JSON.parse(line) as Partial<RequestLine> & { msg?: string })
    .filter((line) => line.msg === "request" && line.route === `default/${route}`);
  return lines.at(-1) as RequestLine;
}

async function ask(model: string, stream: boolean): Promise<OpenAI.CompletionUsage> {
  const request = {
    model,
    messages: [{ role: "user" as const, content: "Prove that there are infinitely many primes" }],
    reasoning_effort: "high" as const,
    max_completion_tokens: 2000,
  };
  if (!stream) return (await clients.openai.chat.completions.create(request)).usage!;
  const chunks = await clients.openai.chat.completions.create({
    ...request,
    stream: true,
    stream_options: { include_usage: true },
  });
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of chunks) usage = chunk.usage ?? usage;
  return usage!;
}

describe.each([
  { model: "o-series", fake: () => clients.upstreams.openai },
  { model: "o-series-azure", fake: () => clients.upstreams.azure },
])("$model: an OpenAI reasoning model through the OpenAI SDK", ({ model, fake }) => {
  it.each([false, true])(
    "forwards reasoning_effort and counts the thinking (streamed: %s)",
    async (stream) => {
      const usage = await ask(model, stream);
      expect(fake().requests.at(-1)!.json).toMatchObject({
        reasoning_effort: "high",
        max_completion_tokens: 2000,
      });
      expect(usage.completion_tokens_details?.reasoning_tokens).toBe(512);
      expect(usage.completion_tokens).toBeGreaterThan(512);
      const line = lastRequestLine(model);
      expect(line).toMatchObject({
        inputTokens: usage.prompt_tokens,
        outputTokens: usage.completion_tokens,
        reasoningTokens: 512,
      });
      expect(line.costUsd).toBeCloseTo(costOf(usage), 12);
    },
  );
});

describe.each(["gemini-2.5", "claude", "claude-bedrock"])("%s: thinking is priced as output", (model) => {
  it("counts thinking in completion_tokens and the cost, and in reasoning_tokens where the upstream says", async () => {
    const plain = await clients.openai.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Hello there" }],
      max_completion_tokens: 4096,
    });
    const thinking = await clients.openai.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Hello there" }],
      max_completion_tokens: 4096,
      reasoning_effort: "low",
    });
    const usage = thinking.usage!;
    expect(usage.completion_tokens).toBeGreaterThan(plain.usage!.completion_tokens);
    // Gemini reports thoughtsTokenCount; Claude's output_tokens include thinking without a split.
    if (model.startsWith("gemini"))
      expect(usage.completion_tokens_details?.reasoning_tokens).toBe(
        usage.completion_tokens - plain.usage!.completion_tokens,
      );
    expect(lastRequestLine(model).costUsd).toBeCloseTo(costOf(usage), 12);
  });
});
