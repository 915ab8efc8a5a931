import { createHash } from "node:crypto";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { chatBody, docs, provider, route, secret } from "./traffic-manifests.js";

/** Consumers as clients see them: API keys, 401/403, per-consumer limits and budgets. */

const UPSTREAM_KEY = "sk-upstream-0123456789abcdef";
const KEY_A = "sk-team-a-5f0c1e9a7d3b";
const KEY_B = "sk-team-b-90e1d2c3b4a5";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const manyWords = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(" ");

let upstream: OpenAiFake;
let gateway: TestGateway;

function call(path: string, init: { key?: string; body?: string; headers?: Record<string, string> } = {}) {
  return fetch(`${gateway.url}${path}`, {
    method: init.body === undefined ? "GET" : "POST",
    headers: {
      "content-type": "application/json",
      ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
      ...init.headers,
    },
    body: init.body,
  });
}

const chat = (model: string, key: string | undefined, text = "hello", extra: Record<string, unknown> = {}) =>
  call("/v1/chat/completions", { key, body: chatBody(text, { model, ...extra }) });

beforeAll(async () => {
  upstream = await startOpenAiFake({ apiKey: UPSTREAM_KEY });
  const keys = { name: "consumer-keys", key: "team-a" };
  gateway = await startTestGateway({
    "all.yaml": docs(
      secret("upstream-key", { apiKey: UPSTREAM_KEY }),
      // team-a's Secret holds the key itself, team-b's only its sha256: both work.
      secret("consumer-keys", { "team-a": KEY_A, "team-b": `sha256:${sha256(KEY_B)}` }),
      provider(
        "fake",
        upstream.baseUrl,
        [
          {
            name: "cheap",
            providerModel: "gpt-4o-mini",
            pricing: { inputPer1M: 0.15, outputPer1M: 0.6 },
            maxOutputTokens: 1_000,
          },
          // $1 per output token, so budgets are crossed within a few words.
          {
            name: "pricey",
            providerModel: "gpt-4o",
            pricing: { inputPer1M: 0, outputPer1M: 1_000_000 },
            maxOutputTokens: 64,
          },
        ],
        { apiKeySecret: "upstream-key" },
      ),
      route("open-chat", { targets: [{ provider: "fake", model: "cheap" }] }),
      route("team-chat", {
        targets: [{ provider: "fake", model: "cheap" }],
        consumers: [
          { name: "team-a", apiKeySecretRef: keys },
          { name: "team-b", apiKeySecretRef: { ...keys, key: "team-b" }, limits: { requestsPerMinute: 2 } },
        ],
      }),
      route("b-only", {
        targets: [{ provider: "fake", model: "cheap" }],
        consumers: [{ name: "team-b", apiKeySecretRef: { ...keys, key: "team-b" } }],
      }),
      route("budget-chat", {
        targets: [{ provider: "fake", model: "pricey" }],
        consumers: [{ name: "team-a", apiKeySecretRef: keys, budget: { usd: 40, period: "day" } }],
      }),
      route("tpm-chat", {
        targets: [{ provider: "fake", model: "cheap" }],
        consumers: [{ name: "team-a", apiKeySecretRef: keys, limits: { tokensPerMinute: 600 } }],
      }),
    ),
  });
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

describe("API-key consumers", () => {
  it("serves an open route to anyone, with or without a key", async () => {
    expect((await chat("open-chat", undefined)).status).toBe(200);
    expect((await chat("open-chat", "anything")).status).toBe(200);
  });

  it("answers 401 with an OpenAI error body when a protected route gets no key", async () => {
    const res = await chat("team-chat", undefined);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("authentication_error");
    expect(body.error.message).toContain("Authorization: Bearer");
  });

  it("answers 401 for a wrong key without echoing it", async () => {
    const res = await chat("team-chat", "sk-not-a-real-key-77");
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain("sk-not-a-real-key-77");
  });

  it("admits keys stored in clear and stored as sha256, through the OpenAI SDK", async () => {
    for (const key of [KEY_A, KEY_B]) {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 });
      const reply = await client.chat.completions.create({
        model: "team-chat",
        messages: [{ role: "user", content: "hi there" }],
      });
      expect(reply.choices[0]!.message.content).toBe("You said: hi there");
    }
  });

  it("answers 403 naming the consumer when a valid key calls a route that does not list it", async () => {
    const res = await chat("b-only", KEY_A);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("permission_error");
    expect(body.error.message).toContain('consumer "team-a"');
  });

  it("accepts x-api-key from the Anthropic SDK on /v1/messages", async () => {
    const client = new Anthropic({ baseURL: gateway.url, apiKey: KEY_A, maxRetries: 0 });
    const message = await client.messages.create({
      model: "team-chat",
      max_tokens: 50,
      messages: [{ role: "user", content: "from anthropic" }],
    });
    expect(message.content[0]).toMatchObject({ type: "text", text: "You said: from anthropic" });
    const denied = new Anthropic({ baseURL: gateway.url, apiKey: "sk-wrong-anthropic-key", maxRetries: 0 });
    await expect(
      denied.messages.create({
        model: "team-chat",
        max_tokens: 5,
        messages: [{ role: "user", content: "x" }],
      }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it("lists in GET /v1/models only the routes the caller may use", async () => {
    const ids = async (key?: string) =>
      ((await (await call("/v1/models", { key })).json()) as { data: Array<{ id: string }> }).data.map(
        (m) => m.id,
      );
    expect(await ids()).toEqual(["open-chat"]);
    expect(await ids(KEY_A)).toEqual(["budget-chat", "open-chat", "team-chat", "tpm-chat"]);
    expect(await ids(KEY_B)).toEqual(["b-only", "open-chat", "team-chat"]);
    expect(await ids("sk-unknown-key-123")).toEqual(["open-chat"]);
  });
});

describe("per-consumer limits and budgets", () => {
  it("answers 429 with Retry-After once a consumer's requests per minute are used, other consumers unaffected", async () => {
    // team-b may make 2 requests a minute on team-chat; an earlier test used one.
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 3; i++) {
      const res = await chat("team-chat", KEY_B);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses).toEqual([200, 429, 429]);
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = (await limited!.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.message).toContain("2 requests per minute");
    expect((await chat("team-chat", KEY_A)).status).toBe(200);
  });

  it("refuses with 429 naming the budget once the period's spend is used", async () => {
    // At most 40 output tokens at $1 each: the whole $40 may go to this one request, and does.
    const first = await chat("budget-chat", KEY_A, manyWords(60), { max_tokens: 40 });
    expect(first.status).toBe(200);
    const res = await chat("budget-chat", KEY_A, "again");
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(86_400);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(
      /budget of \$40\.00 per day .* used\); it resets at \d{4}-\d\d-\d\dT00:00:00/,
    );
  });

  it("cuts a stream that crosses the consumer's tokens per minute with an error event", async () => {
    const res = await chat("tpm-chat", KEY_A, manyWords(300), { stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    const events = text
      .split("\n\n")
      .filter((f) => f.startsWith("data: ") && f !== "data: [DONE]")
      .map(
        (f) =>
          JSON.parse(f.slice(6)) as {
            choices?: Array<{ delta: { content?: string } }>;
            error?: { code: string; message: string };
          },
      );
    const streamed = events.map((e) => e.choices?.[0]?.delta.content ?? "").join("");
    const error = events.at(-1)!.error;
    expect(error?.code).toBe("rate_limit");
    expect(error?.message).toContain("600 tokens per minute; the response was cut");
    // Some of the answer went out before the cut, not all of it.
    expect(streamed.length).toBeGreaterThan(0);
    expect(streamed.length).toBeLessThan(`You said: ${manyWords(300)}`.length);
    expect(text).not.toContain("[DONE]");
  });

  it("logs the consumer and cost of every request, and never a key", async () => {
    const lines = gateway.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const served = lines.filter(
      (l) => l.msg === "request" && l.route === "default/budget-chat" && l.outcome === "ok",
    );
    expect(served[0]).toMatchObject({ consumer: "team-a", model: "pricey" });
    expect(served[0]!.costUsd).toBeGreaterThan(0);
    const all = gateway.logs.join("\n");
    for (const secretText of [
      KEY_A,
      KEY_B,
      UPSTREAM_KEY,
      "sk-not-a-real-key-77",
      "sk-wrong-anthropic-key",
      sha256(KEY_A),
    ]) {
      expect(all).not.toContain(secretText);
    }
    // Prompts stay out of the log by default.
    expect(all).not.toContain("hi there");
  });
});
