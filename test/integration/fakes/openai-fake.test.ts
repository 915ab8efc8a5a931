import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";

const KEY = "sk-proj-fakeKey0123456789abcdefXYZ9";
const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } } },
  },
};

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

async function rawStream(fake: OpenAiFake, body: unknown, key = KEY): Promise<string> {
  const res = await fetch(`${fake.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  return res.text();
}

describe("openai fake (flavor openai) driven by the OpenAI SDK", () => {
  let fake: OpenAiFake;
  let client: OpenAI;
  beforeAll(async () => {
    fake = await startOpenAiFake({
      apiKey: KEY,
      models: ["gpt-4o-mini", "o3-mini", "text-embedding-3-small", "text-embedding-ada-002"],
    });
    client = new OpenAI({ apiKey: KEY, baseURL: fake.baseUrl, maxRetries: 0 });
  });
  afterAll(() => fake.close());

  it("answers a chat completion with usage and the bearer key checked", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hello there" }],
    });
    expect(completion.choices[0]!.message.content).toBe("You said: hello there");
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.usage!.completion_tokens).toBe(4);
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + 4);
    expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("streams text with the role on the first delta and a usage chunk with no choices", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "stream me" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("You said: stream me");
    const finishIndex = chunks.findIndex((c) => c.choices[0]?.finish_reason === "stop");
    expect(finishIndex).toBe(chunks.length - 2);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(4);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it("frames the stream as data-only SSE ending with data: [DONE]", async () => {
    const text = await rawStream(fake, {
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    const events = text.split("\n\n").filter(Boolean);
    expect(events.every((e) => e.startsWith("data: "))).toBe(true);
    expect(events.at(-1)).toBe("data: [DONE]");
    expect(text).not.toContain('"usage"');
  });

  it("streams a tool call: id, type and name on the first delta only, arguments in fragments", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "What is the weather in Lisbon?" }],
      tools: [weatherTool],
      stream: true,
    });
    const chunks = await collect(stream);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({
      index: 0,
      type: "function",
      function: { name: "get_weather", arguments: "" },
    });
    expect(calls[0]!.id).toMatch(/^call_/);
    const rest = calls.slice(1);
    expect(rest.length).toBeGreaterThanOrEqual(2);
    expect(
      rest.every((c) => c.id === undefined && c.type === undefined && c.function?.name === undefined),
    ).toBe(true);
    expect(JSON.parse(calls.map((c) => c.function?.arguments ?? "").join(""))).toEqual({ city: "Lisbon" });
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("accepts tool results in history and rejects a tool message without its call", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      tools: [weatherTool],
      messages: [
        { role: "user", content: "weather in Oslo?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_1",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_1", content: "-3C and snowing" },
      ],
    });
    expect(completion.choices[0]!.message.content).toBe("The tool returned: -3C and snowing");
    await expect(
      client.chat.completions.create({
        model: "gpt-4o-mini",
        messages: [
          { role: "user", content: "x" },
          { role: "tool", tool_call_id: "call_9", content: "y" },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, param: "messages.[1].role" });
  });

  it("answers JSON mode with JSON and requires the word json in the messages", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      response_format: { type: "json_object" },
      messages: [{ role: "user", content: "answer in json" }],
    });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({
      reply: "You said: answer in json",
    });
    await expect(
      client.chat.completions.create({
        model: "gpt-4o-mini",
        response_format: { type: "json_object" },
        messages: [{ role: "user", content: "hi" }],
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it("stops at max_completion_tokens with finish_reason length, and reasoning models refuse max_tokens", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      max_completion_tokens: 2,
      messages: [{ role: "user", content: "a long sentence here" }],
    });
    expect(completion.choices[0]!.message.content).toBe("You said:");
    expect(completion.choices[0]!.finish_reason).toBe("length");
    await expect(
      client.chat.completions.create({
        model: "o3-mini",
        max_tokens: 5,
        messages: [{ role: "user", content: "hi" }],
      }),
    ).rejects.toMatchObject({ status: 400, code: "unsupported_parameter", param: "max_tokens" });
  });

  it("counts a reasoning model's thinking by effort and refuses reasoning_effort elsewhere, as OpenAI does", async () => {
    const messages = [{ role: "user" as const, content: "hi" }];
    const high = await client.chat.completions.create({
      model: "o3-mini",
      reasoning_effort: "high",
      messages,
    });
    expect(high.choices[0]!.message.content).toBe("You said: hi");
    expect(high.usage!.completion_tokens_details?.reasoning_tokens).toBe(512);
    expect(high.usage!.completion_tokens).toBe(512 + 3);
    const byDefault = await client.chat.completions.create({ model: "o3-mini", messages });
    expect(byDefault.usage!.completion_tokens_details?.reasoning_tokens).toBe(192);
    await expect(
      client.chat.completions.create({ model: "gpt-4o-mini", reasoning_effort: "low", messages }),
    ).rejects.toMatchObject({ status: 400, code: "unsupported_parameter", param: "reasoning_effort" });
  });

  it("returns float and base64 embeddings that agree, honouring dimensions", async () => {
    const floats = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: ["alpha", "beta"],
      encoding_format: "float",
      dimensions: 8,
    });
    // Without encoding_format the SDK asks for base64 and decodes it itself.
    const decoded = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: ["alpha", "beta"],
      dimensions: 8,
    });
    expect(fake.requests.at(-1)!.json).toMatchObject({ encoding_format: "base64" });
    expect(floats.data.map((d) => d.embedding.length)).toEqual([8, 8]);
    expect(decoded.data.map((d) => d.embedding)).toEqual(floats.data.map((d) => d.embedding));
    expect(floats.data[0]!.embedding).not.toEqual(floats.data[1]!.embedding);
    const norm = Math.hypot(...floats.data[0]!.embedding);
    expect(norm).toBeCloseTo(1, 5);
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
    await expect(
      client.embeddings.create({ model: "text-embedding-ada-002", input: "x", dimensions: 8 }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it("lists models and answers unknown models with 404 model_not_found", async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain("gpt-4o-mini");
    await expect(
      client.chat.completions.create({ model: "gpt-9", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
    });
  });

  it("rejects a wrong key with OpenAI's 401 that echoes a masked key", async () => {
    const wrong = "sk-proj-wrongKey9876543210zyxwvuABCD";
    const bad = new OpenAI({ apiKey: wrong, baseURL: fake.baseUrl, maxRetries: 0 });
    const err = (await bad.models.list().catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.AuthenticationError
    >;
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.code).toBe("invalid_api_key");
    expect(err.message).toContain("Incorrect API key provided: sk-pro");
    expect(err.message).toContain("ABCD");
    expect(err.message).not.toContain(wrong);
    const res = await fetch(`${fake.baseUrl}/models`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /^You didn't provide an API key/,
    );
  });

  it("answers the trigger words with OpenAI's real errors", async () => {
    const ask = (content: string) =>
      client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content }] });
    await expect(ask("TRIGGER_CONTEXT_LENGTH")).rejects.toMatchObject({
      status: 400,
      code: "context_length_exceeded",
      param: "messages",
    });
    const limited = (await ask("TRIGGER_RATE_LIMIT").catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.RateLimitError
    >;
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited.code).toBe("rate_limit_exceeded");
    expect(limited.headers.get("retry-after")).toBe("20");
    const filtered = await ask("TRIGGER_CONTENT_FILTER please");
    expect(filtered.choices[0]!.finish_reason).toBe("content_filter");
  });

  it("sends an error event inside a 200 stream, which the SDK raises mid-iteration", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "TRIGGER_STREAM_ERROR now" }],
      stream: true,
    });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? "");
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).type).toBe("server_error");
    expect(seen.join("")).toBe("You");
  });
});

describe("openai fake (flavor vllm) driven by the OpenAI SDK", () => {
  let fake: OpenAiFake;
  let client: OpenAI;
  beforeAll(async () => {
    fake = await startOpenAiFake({
      flavor: "vllm",
      apiKey: "token-abc123",
      models: ["meta-llama/Llama-3.1-8B-Instruct"],
    });
    client = new OpenAI({ apiKey: "token-abc123", baseURL: fake.baseUrl, maxRetries: 0 });
  });
  afterAll(() => fake.close());

  it("sends usage in its own chunk after the finish chunk", async () => {
    const stream = await client.chat.completions.create({
      model: "meta-llama/Llama-3.1-8B-Instruct",
      messages: [{ role: "user", content: "hello vllm" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);
    const finish = chunks.findIndex((c) => c.choices[0]?.finish_reason === "stop");
    expect(chunks[finish]!.usage).toBeUndefined();
    expect(chunks[finish + 1]!.choices).toEqual([]);
    expect(chunks[finish + 1]!.usage).toMatchObject({ completion_tokens: 4 });
  });

  it("checks --api-key with vLLM's plain Unauthorized body", async () => {
    const bad = new OpenAI({ apiKey: "nope", baseURL: fake.baseUrl, maxRetries: 0 });
    const err = (await bad.models.list().catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.error).toBe("Unauthorized");
  });

  it("answers errors with vLLM's top-level error object", async () => {
    const res = await fetch(`${fake.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer token-abc123", "content-type": "application/json" },
      body: JSON.stringify({
        model: "meta-llama/Llama-3.1-8B-Instruct",
        messages: [{ role: "user", content: "TRIGGER_CONTEXT_LENGTH" }],
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      object: "error",
      type: "BadRequestError",
      code: 400,
      message: expect.stringMatching(/maximum context length/),
    });
  });

  it("lists its served models", async () => {
    const page = await client.models.list();
    expect(page.data).toMatchObject([{ id: "meta-llama/Llama-3.1-8B-Instruct", owned_by: "vllm" }]);
  });
});

describe("openai fake (flavor ollama) driven by the OpenAI SDK", () => {
  let fake: OpenAiFake;
  let client: OpenAI;
  beforeAll(async () => {
    fake = await startOpenAiFake({ flavor: "ollama", models: ["llama3.2", "nomic-embed-text"] });
    // The SDK insists on a key; Ollama ignores it.
    client = new OpenAI({ apiKey: "ollama", baseURL: fake.baseUrl, maxRetries: 0 });
  });
  afterAll(() => fake.close());

  it("serves /v1 without auth and never sends usage in streams", async () => {
    const res = await fetch(`${fake.baseUrl}/models`);
    expect(res.status).toBe(200);
    const stream = await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "hi ollama" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);
    expect(chunks.every((c) => c.usage === undefined)).toBe(true);
    expect(chunks.every((c) => c.choices.length === 1 && c.choices[0]!.delta.role === "assistant")).toBe(
      true,
    );
    expect(chunks.map((c) => c.choices[0]!.delta.content).join("")).toBe("You said: hi ollama");
    const completion = await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "x" }],
    });
    expect(completion.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: 3 });
  });

  it("streams each tool call whole in one delta", async () => {
    const stream = await client.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "weather in Rome" }],
      tools: [weatherTool],
      stream: true,
    });
    const chunks = await collect(stream);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      index: 0,
      function: { name: "get_weather", arguments: '{"city": "Rome"}' },
    });
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("answers unknown models like Ollama", async () => {
    await expect(
      client.chat.completions.create({ model: "mistral", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining('model "mistral" not found, try pulling it first'),
    });
  });
});
