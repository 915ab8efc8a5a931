import Anthropic, { AuthenticationError, NotFoundError } from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import type { FakeServer, RecordedRequest } from "../../fakes/fake-http-server.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";

/**
 * `POST /v1/messages/count_tokens` driven by the official SDK's `messages.countTokens`: the
 * provider's count when the route's first allowed target is Anthropic, the gateway's estimate
 * otherwise, with the Messages API's admission and errors.
 */

const API = "llm.switchboard.dev/v1alpha1";
const ANTHROPIC_KEY = "sk-ant-count-tokens-test-0123456789";
const OPENAI_KEY = "sk-proj-countTokensTest0123456789abcd";
const TEAM_KEY = "sk-team-count-5f0c1e9a7d3b";
const CLAUDE = "claude-haiku-4-5";

let anthropic: FakeServer;
let openai: OpenAiFake;
let gateway: TestGateway;

function resource(kind: string, name: string, spec: object): object {
  return { apiVersion: API, kind, metadata: { name, namespace: "default" }, spec };
}

function secret(name: string, stringData: Record<string, string>): object {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "default" }, stringData };
}

function provider(
  name: string,
  type: "anthropic" | "openai",
  endpoint: string,
  providerModel: string,
  region: string,
): object {
  return resource("LLMProvider", name, {
    type,
    endpoint,
    credentials: { secretRef: { name: `${name}-key`, key: "apiKey" } },
    models: [{ name: "chat", providerModel }],
    dataResidency: { boundary: "provider-cloud", region },
    // The tests count upstream requests: no probes.
    healthCheck: { probe: "none" },
  });
}

function client(apiKey: string | null = "unused-on-open-routes"): Anthropic {
  return new Anthropic({
    baseURL: gateway.url,
    apiKey,
    maxRetries: 0,
    ...(apiKey === null ? { defaultHeaders: { authorization: null } } : {}),
  });
}

const upstreamCalls = (fake: FakeServer, path: string): RecordedRequest[] =>
  fake.requests.filter((r) => r.method === "POST" && r.url === path);

beforeAll(async () => {
  anthropic = await startAnthropicFake({ apiKey: ANTHROPIC_KEY, models: [CLAUDE] });
  openai = await startOpenAiFake({ apiKey: OPENAI_KEY });
  const objects = [
    secret("claude-key", { apiKey: ANTHROPIC_KEY }),
    secret("gpt-key", { apiKey: OPENAI_KEY }),
    secret("consumer-keys", { "team-a": TEAM_KEY }),
    provider("claude", "anthropic", anthropic.url, CLAUDE, "us-east-1"),
    provider("gpt", "openai", openai.baseUrl, "gpt-4o-mini", "eu-west-1"),
    resource("LLMRoute", "claude-route", {
      model: "claude-route",
      targets: [{ provider: "claude", model: "chat" }],
    }),
    resource("LLMRoute", "gpt-route", { model: "gpt-route", targets: [{ provider: "gpt", model: "chat" }] }),
    // Claude comes first but lies outside the policy: the prompt must not reach it.
    resource("LLMRoute", "eu-route", {
      model: "eu-route",
      targets: [
        { provider: "claude", model: "chat", priority: 0 },
        { provider: "gpt", model: "chat", priority: 1 },
      ],
      policy: { dataResidency: { allowedRegions: ["eu-west-1"] } },
    }),
    resource("LLMRoute", "team-route", {
      model: "team-route",
      targets: [{ provider: "claude", model: "chat" }],
      consumers: [{ name: "team-a", apiKeySecretRef: { name: "consumer-keys", key: "team-a" } }],
    }),
  ];
  gateway = await startTestGateway({ "all.yaml": objects.map((o) => JSON.stringify(o)).join("\n---\n") });
});

afterAll(async () => {
  await gateway?.close();
  await anthropic?.close();
  await openai?.close();
});

beforeEach(() => {
  anthropic.requests.length = 0;
  anthropic.faults.length = 0;
  openai.requests.length = 0;
});

const weatherTool = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } } },
};

describe("POST /v1/messages/count_tokens", () => {
  it("answers with the Anthropic upstream's own count, for the upstream model", async () => {
    const { data, response } = await client()
      .messages.countTokens({
        model: "claude-route",
        system: "You are terse.",
        tools: [weatherTool],
        messages: [
          { role: "user", content: "What is the weather in Paris?" },
          { role: "assistant", content: "Let me look." },
          { role: "user", content: "Thanks, and in Rome?" },
        ],
      })
      .withResponse();

    expect(response.headers.get("x-switchboard-token-count")).toBe("upstream");
    expect(response.headers.get("x-switchboard-provider")).toBe("default/claude");
    const [sent] = upstreamCalls(anthropic, "/v1/messages/count_tokens");
    expect(upstreamCalls(anthropic, "/v1/messages")).toHaveLength(0);
    const body = sent!.json as Record<string, unknown>;
    expect(body).toMatchObject({ model: CLAUDE, system: "You are terse." });
    expect(body).not.toHaveProperty("max_tokens");
    // The same body sent straight to the upstream counts the same: the number is the upstream's.
    const direct = new Anthropic({ baseURL: anthropic.url, apiKey: ANTHROPIC_KEY, maxRetries: 0 });
    const expected = await direct.messages.countTokens(body as unknown as Anthropic.MessageCountTokensParams);
    expect(data).toEqual({ input_tokens: expected.input_tokens });
  });

  it("answers with the gateway's estimate, marked as such, when the target is not Anthropic", async () => {
    const { data, response } = await client()
      .messages.countTokens({
        model: "gpt-route",
        system: "Be brief.",
        messages: [{ role: "user", content: "Hello there, count me" }],
      })
      .withResponse();

    expect(response.headers.get("x-switchboard-token-count")).toBe("estimated");
    expect(response.headers.get("x-switchboard-provider")).toBeNull();
    // 4 characters a token plus 4 a message: "Be brief." 3 + 4, "Hello there, count me" 6 + 4.
    expect(data).toEqual({ input_tokens: 17 });
    expect(openai.requests).toHaveLength(0);
  });

  it("falls back to the estimate when the upstream cannot count", async () => {
    anthropic.faults.push({
      kind: "status",
      status: 529,
      body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
    });
    const { data, response } = await client()
      .messages.countTokens({ model: "claude-route", messages: [{ role: "user", content: "12345678" }] })
      .withResponse();

    expect(upstreamCalls(anthropic, "/v1/messages/count_tokens")).toHaveLength(1);
    expect(response.headers.get("x-switchboard-token-count")).toBe("estimated");
    expect(data).toEqual({ input_tokens: 2 + 4 });
  });

  it("never sends the prompt to a target the route's data-residency policy forbids", async () => {
    const { response } = await client()
      .messages.countTokens({ model: "eu-route", messages: [{ role: "user", content: "secret plans" }] })
      .withResponse();

    expect(response.headers.get("x-switchboard-token-count")).toBe("estimated");
    expect(anthropic.requests).toHaveLength(0);
  });

  it("answers an unknown model with Anthropic's 404 not_found_error", async () => {
    const error = await client()
      .messages.countTokens({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] })
      .catch((err: unknown) => err);

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).error).toMatchObject({
      type: "error",
      error: { type: "not_found_error", message: expect.stringContaining('"no-such-model"') },
    });
  });

  it("admits consumers as /v1/messages does: 401 without a key, the count with one", async () => {
    const error = await client(null)
      .messages.countTokens({ model: "team-route", messages: [{ role: "user", content: "hi" }] })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).error).toMatchObject({
      type: "error",
      error: { type: "authentication_error" },
    });
    expect(anthropic.requests).toHaveLength(0);

    const counted = await client(TEAM_KEY).messages.countTokens({
      model: "team-route",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
    expect(upstreamCalls(anthropic, "/v1/messages/count_tokens")).toHaveLength(1);
  });
});
