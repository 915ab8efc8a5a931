import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChatRequest } from "../../../src/gateway/canonical/chat.js";
import { createAdapter } from "../../../src/gateway/providers/adapter-registry.js";
import type { CompiledProvider } from "../../../src/shared/schemas/gateway-config.js";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { createTestServiceAccount, startVertexFake, type VertexFake } from "../../fakes/vertex-fake.js";
import {
  callContext,
  expectGatewayError,
  resetFake,
  testProvider,
  user,
  WEATHER_TOOL,
} from "./adapter-test-kit.js";

/** Adapters' countTokens against their upstream fakes: Anthropic's count_tokens and Claude on Vertex's count-tokens. */

const API_KEY = "sk-ant-api03-count-test-key-0123456789";
const CLAUDE = "claude-sonnet-4-5";
const PROJECT = "switchboard-test";
const REGION = "us-east5";
const VERTEX_CLAUDE = "claude-sonnet-4-5@20250929";

let anthropic: FakeServer;
let vertex: VertexFake;
let vertexProvider: CompiledProvider;

const request = (model: string): ChatRequest => ({
  model,
  messages: [{ role: "system", content: "Be brief." }, user("What is the weather in Paris?")],
  tools: [WEATHER_TOOL],
  maxTokens: 300,
  temperature: 0.3,
});

function anthropicProvider(apiKey = API_KEY): CompiledProvider {
  return testProvider({
    id: "ai/claude",
    type: "anthropic",
    endpoint: anthropic.url,
    credentials: { mode: "apiKey", apiKey },
    models: [{ name: "sonnet", upstreamModel: CLAUDE, kind: "chat", supportsTools: true }],
  });
}

beforeAll(async () => {
  anthropic = await startAnthropicFake({ apiKey: API_KEY, models: [CLAUDE] });
  const account = createTestServiceAccount(PROJECT, "http://127.0.0.1:1/token");
  vertex = await startVertexFake({
    project: PROJECT,
    region: REGION,
    serviceAccountEmail: account.key.client_email,
    serviceAccountPublicKey: account.publicKey,
  });
  account.key.token_uri = vertex.tokenUrl;
  vertexProvider = testProvider({
    id: "ai/vertex",
    type: "vertex",
    endpoint: vertex.url,
    region: REGION,
    project: PROJECT,
    credentials: { mode: "apiKey", apiKey: JSON.stringify(account.key) },
    models: [
      { name: "flash", upstreamModel: "gemini-2.5-flash", kind: "chat", supportsTools: true },
      { name: "sonnet", upstreamModel: VERTEX_CLAUDE, kind: "chat", supportsTools: true },
    ],
  });
});
afterAll(async () => {
  await anthropic.close();
  await vertex.close();
});
beforeEach(() => {
  resetFake(anthropic);
  resetFake(vertex);
});

describe("anthropic adapter countTokens", () => {
  it("posts the Messages body without generation settings to /v1/messages/count_tokens", async () => {
    const count = await createAdapter(anthropicProvider()).countTokens!(request(CLAUDE), callContext());

    const sent = anthropic.requests.at(-1)!;
    expect(sent.url).toBe("/v1/messages/count_tokens");
    expect(sent.headers["x-api-key"]).toBe(API_KEY);
    const body = sent.json as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["messages", "model", "system", "tools"]);
    expect(body).toMatchObject({ model: CLAUDE, system: "Be brief." });
    // The fake counts a quarter of the characters of [system, tools, messages].
    expect(count).toBe(Math.ceil(JSON.stringify([body.system, body.tools, body.messages]).length / 4));
  });

  it("maps the upstream's refusal into the taxonomy, without the key", async () => {
    const error = await expectGatewayError(
      createAdapter(anthropicProvider("sk-ant-wrong-key-000000000")).countTokens!(
        request(CLAUDE),
        callContext(),
      ),
      "authentication",
    );
    expect(JSON.stringify({ message: error.message, details: error })).not.toContain("wrong-key");
  });

  it("rejects an answer without a whole input_tokens count", async () => {
    anthropic.faults.push({ kind: "status", status: 200, body: { input_tokens: "many" } });
    await expectGatewayError(
      createAdapter(anthropicProvider()).countTokens!(request(CLAUDE), callContext()),
      "upstream_unavailable",
    );
  });
});

describe("vertex adapter countTokens", () => {
  it("counts Claude models at count-tokens:rawPredict, naming the model in the body", async () => {
    const count = await createAdapter(vertexProvider).countTokens!(request(VERTEX_CLAUDE), callContext());

    const sent = vertex.requests.at(-1)!;
    expect(new URL(sent.url, "http://fake").pathname).toBe(
      `/v1/projects/${PROJECT}/locations/${REGION}/publishers/anthropic/models/count-tokens:rawPredict`,
    );
    const body = sent.json as Record<string, unknown>;
    expect(body).toMatchObject({ model: VERTEX_CLAUDE, anthropic_version: "vertex-2023-10-16" });
    expect(body).not.toHaveProperty("max_tokens");
    expect(count).toBe(Math.ceil(JSON.stringify(body.messages).length / 4));
  });

  it("has no count for Gemini models and sends nothing", async () => {
    const count = await createAdapter(vertexProvider).countTokens!(
      request("gemini-2.5-flash"),
      callContext(),
    );
    expect(count).toBeUndefined();
    expect(vertex.requests).toHaveLength(0);
  });
});
