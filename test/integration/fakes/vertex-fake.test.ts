import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GoogleGenAI, Type, type GenerateContentResponse } from "@google/genai";
import { AnthropicVertex } from "@anthropic-ai/vertex-sdk";
import { GoogleAuth } from "google-auth-library";
import {
  createTestServiceAccount,
  googleAuthOptionsFor,
  startVertexFake,
  type TestServiceAccount,
  type VertexFake,
} from "../../fakes/vertex-fake.js";

/** The fake is driven by Google's and Anthropic's official Vertex SDKs, authenticated with a test service account. */

const project = "switchboard-test";
const region = "europe-west4";
let fake: VertexFake;
let account: TestServiceAccount;

beforeAll(async () => {
  account = createTestServiceAccount(project, "http://127.0.0.1:1/token");
  fake = await startVertexFake({
    project,
    region,
    serviceAccountEmail: account.key.client_email,
    serviceAccountPublicKey: account.publicKey,
  });
  account.key.token_uri = fake.tokenUrl;
});

afterAll(async () => {
  await fake.close();
});

function genai(key = account.key): GoogleGenAI {
  return new GoogleGenAI({
    vertexai: true,
    project,
    location: region,
    httpOptions: { baseUrl: fake.url, apiVersion: "v1" },
    googleAuthOptions: googleAuthOptionsFor(key),
  });
}

function claude(): AnthropicVertex {
  return new AnthropicVertex({
    region,
    projectId: project,
    baseURL: `${fake.url}/v1`,
    googleAuth: new GoogleAuth(googleAuthOptionsFor(account.key)),
    maxRetries: 0,
  });
}

const weatherTool = {
  functionDeclarations: [
    {
      name: "get_weather",
      description: "Current weather for a city",
      parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING } }, required: ["city"] },
    },
  ],
};

describe("Vertex fake driven by @google/genai", () => {
  it("answers generateContent at the exact Vertex path after a JWT-bearer token grant", async () => {
    const before = fake.requests.length;
    const response = await genai().models.generateContent({
      model: "gemini-2.5-flash",
      contents: "hello there",
    });
    expect(response.text).toBe("You said: hello there");
    expect(response.candidates?.[0]?.finishReason).toBe("STOP");
    expect(response.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    expect(response.usageMetadata?.candidatesTokenCount).toBe(Math.ceil("You said: hello there".length / 4));
    const call = fake.requests[before]!;
    expect(new URL(call.url, "http://x").pathname).toBe(
      `/v1/projects/${project}/locations/${region}/publishers/google/models/gemini-2.5-flash:generateContent`,
    );
    expect(call.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
    expect(fake.authRequests.some((r) => r.url === "/token" && r.body.includes("jwt-bearer"))).toBe(true);
  });

  it("streams SSE chunks with alt=sse and finishes with usage", async () => {
    const stream = await genai().models.generateContentStream({
      model: "gemini-2.5-flash",
      contents: "stream this reply please",
    });
    const chunks: GenerateContentResponse[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.text ?? "").join("")).toBe("You said: stream this reply please");
    expect(chunks.at(-1)?.candidates?.[0]?.finishReason).toBe("STOP");
    expect(chunks.at(-1)?.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
    expect(fake.requests.at(-1)!.url).toMatch(/:streamGenerateContent\?alt=sse$/);
  });

  it("calls a declared function when asked about the weather, and reads its response back", async () => {
    const ai = genai();
    const first = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "What is the weather in Lisbon?",
      config: { tools: [weatherTool] },
    });
    expect(first.functionCalls).toEqual([{ name: "get_weather", args: { city: "Lisbon" } }]);

    const second = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: [
        { role: "user", parts: [{ text: "What is the weather in Lisbon?" }] },
        { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Lisbon" } } }] },
        {
          role: "user",
          parts: [{ functionResponse: { name: "get_weather", response: { output: "sunny" } } }],
        },
      ],
      config: { tools: [weatherTool] },
    });
    expect(second.text).toBe('Tool result: {"output":"sunny"}');
  });

  it("rejects a function response that does not follow a function call, as Gemini does", async () => {
    await expect(
      genai().models.generateContent({
        model: "gemini-2.5-flash",
        contents: [
          {
            role: "user",
            parts: [{ functionResponse: { name: "get_weather", response: { output: "sunny" } } }],
          },
        ],
      }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("function response turn comes immediately after a function call turn"),
    });
  });

  it("honours JSON mode with a response schema", async () => {
    const response = await genai().models.generateContent({
      model: "gemini-2.5-flash",
      contents: "give me json",
      config: {
        responseMimeType: "application/json",
        responseSchema: {
          type: Type.OBJECT,
          properties: { reply: { type: Type.STRING }, count: { type: Type.INTEGER } },
        },
      },
    });
    expect(JSON.parse(response.text!)).toEqual({ reply: "You said: give me json", count: 0 });
  });

  it("embeds with :predict, honouring outputDimensionality", async () => {
    const response = await genai().models.embedContent({
      model: "text-embedding-005",
      contents: ["first text", "second text"],
      config: { outputDimensionality: 16 },
    });
    expect(response.embeddings).toHaveLength(2);
    expect(response.embeddings![0]!.values).toHaveLength(16);
    expect(response.embeddings![0]!.values).not.toEqual(response.embeddings![1]!.values);
    expect(response.embeddings![0]!.statistics?.tokenCount).toBe(Math.ceil("first text".length / 4));
    expect(fake.requests.at(-1)!.url).toMatch(/models\/text-embedding-005:predict$/);
  });

  it("returns Google's errors for the trigger words", async () => {
    const ai = genai();
    await expect(
      ai.models.generateContent({ model: "gemini-2.5-flash", contents: "TRIGGER_CONTEXT_LENGTH" }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("exceeds the maximum number of tokens allowed"),
    });
    await expect(
      ai.models.generateContent({ model: "gemini-2.5-flash", contents: "TRIGGER_RATE_LIMIT" }),
    ).rejects.toMatchObject({
      status: 429,
      message: expect.stringContaining("RESOURCE_EXHAUSTED"),
    });
    const filtered = await ai.models.generateContent({
      model: "gemini-2.5-flash",
      contents: "TRIGGER_CONTENT_FILTER",
    });
    expect(filtered.candidates?.[0]?.finishReason).toBe("SAFETY");
    expect(filtered.text).toBeUndefined();
    await expect(
      ai.models.generateContent({ model: "gemini-9-nonexistent", contents: "hi" }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it("sends an error object inside a 200 SSE stream", async () => {
    const stream = await genai().models.generateContentStream({
      model: "gemini-2.5-flash",
      contents: "TRIGGER_STREAM_ERROR now",
    });
    const texts: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) texts.push(chunk.text ?? "");
      })(),
    ).rejects.toThrow(/Internal error encountered/);
    expect(texts.join("")).not.toBe("");
  });

  it("refuses a token grant signed by another key", async () => {
    const stranger = createTestServiceAccount(project, fake.tokenUrl, "stranger");
    stranger.key.client_email = account.key.client_email;
    await expect(
      genai(stranger.key).models.generateContent({ model: "gemini-2.5-flash", contents: "hi" }),
    ).rejects.toThrow(/invalid_grant: Invalid JWT Signature/);
  });

  it("rejects a missing or unknown bearer token with 401 UNAUTHENTICATED", async () => {
    const url = `${fake.url}/v1/projects/${project}/locations/${region}/publishers/google/models/gemini-2.5-flash:generateContent`;
    const body = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });
    const missing = await fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { code: 401, status: "UNAUTHENTICATED" } });
    const wrong = await fetch(url, {
      method: "POST",
      body,
      headers: { authorization: "Bearer ya29.not-issued" },
    });
    expect(wrong.status).toBe(401);
  });

  it("serves the JSON-array stream when alt=sse is missing", async () => {
    const token = await new GoogleAuth(googleAuthOptionsFor(account.key)).getAccessToken();
    const res = await fetch(
      `${fake.url}/v1/projects/${project}/locations/${region}/publishers/google/models/gemini-2.5-flash:streamGenerateContent`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "array please" }] }] }),
      },
    );
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const chunks = (await res.json()) as Array<{
      candidates: Array<{ content?: { parts: Array<{ text: string }> } }>;
    }>;
    expect(chunks.map((c) => c.candidates[0]!.content!.parts[0]!.text).join("")).toBe(
      "You said: array please",
    );
  });

  it("rejects JSON-Schema keywords outside Gemini's schema subset", async () => {
    // @google/genai drops unknown schema keys itself, so this request is sent as a raw client would.
    const token = await new GoogleAuth(googleAuthOptionsFor(account.key)).getAccessToken();
    const res = await fetch(
      `${fake.url}/v1/projects/${project}/locations/${region}/publishers/google/models/gemini-2.5-flash:generateContent`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          contents: [{ role: "user", parts: [{ text: "weather?" }] }],
          tools: [
            {
              functionDeclarations: [
                {
                  name: "get_weather",
                  parameters: {
                    type: "object",
                    properties: { city: { type: "string" } },
                    additionalProperties: false,
                  },
                },
              ],
            },
          ],
        }),
      },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: {
        status: "INVALID_ARGUMENT",
        message: expect.stringContaining('Unknown name "additionalProperties"'),
      },
    });
  });
});

describe("Vertex fake driven by @anthropic-ai/vertex-sdk", () => {
  it("serves Claude through rawPredict with the model in the path", async () => {
    const before = fake.requests.length;
    const message = await claude().messages.create({
      model: "claude-sonnet-4-5@20250929",
      max_tokens: 100,
      messages: [{ role: "user", content: "hi claude" }],
    });
    expect(message.content).toEqual([{ type: "text", text: "You said: hi claude" }]);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    const call = fake.requests[before]!;
    expect(call.url).toBe(
      `/v1/projects/${project}/locations/${region}/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`,
    );
    expect((call.json as Record<string, unknown>).anthropic_version).toEqual(expect.any(String));
    expect(call.json).not.toHaveProperty("model");
  });

  it("streams Claude through streamRawPredict, including tool input deltas", async () => {
    const stream = claude().messages.stream({
      model: "claude-sonnet-4-5@20250929",
      max_tokens: 100,
      messages: [{ role: "user", content: "What is the weather in Oslo?" }],
      tools: [
        { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
      ],
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    expect(final.content.find((b) => b.type === "tool_use")).toMatchObject({
      name: "get_weather",
      input: { city: "Oslo" },
    });
    expect(fake.requests.at(-1)!.url).toMatch(/:streamRawPredict$/);
  });

  it("rejects a body without anthropic_version, as Claude on Vertex does", async () => {
    const token = await new GoogleAuth(googleAuthOptionsFor(account.key)).getAccessToken();
    const res = await fetch(
      `${fake.url}/v1/projects/${project}/locations/${region}/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ max_tokens: 10, messages: [{ role: "user", content: "hi" }] }),
      },
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: "anthropic_version: Field required" },
    });
  });

  it("passes Anthropic's own errors through", async () => {
    await expect(
      claude().messages.create({
        model: "claude-sonnet-4-5@20250929",
        max_tokens: 10,
        messages: [{ role: "user", content: "TRIGGER_RATE_LIMIT" }],
      }),
    ).rejects.toMatchObject({ status: 429, error: { type: "error", error: { type: "rate_limit_error" } } });
  });
});
