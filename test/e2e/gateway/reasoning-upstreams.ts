import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll } from "vitest";
import { stringify } from "yaml";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { WEATHER_TOOL } from "./ingress-drivers.js";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";
import { startAzureOpenAiFake } from "../../fakes/azure-openai-fake.js";
import { startBedrockFake } from "../../fakes/bedrock-fake.js";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { createTestServiceAccount, startVertexFake, type VertexFake } from "../../fakes/vertex-fake.js";

/**
 * The upstreams that serve reasoning models, each behind its fake, and the manifests that put one
 * route in front of each model: `gemini-2.5`, `gemini-3`, `claude` (Anthropic), `claude-vertex`,
 * `claude-bedrock`, `o-series` (OpenAI) and `o-series-azure` (an Azure OpenAI deployment).
 */

type Json = Record<string, unknown>;

const PROJECT = "switchboard-reasoning";
const REGION = "us-east5";
const ANTHROPIC_KEY = "sk-ant-Rz7q-Jw2Qp";
const OPENAI_KEY = "sk-Tq5v-openai-Ux4Rm";
const AZURE_KEY = "azure0think0KEY0Wq7Lp";
const AWS = { accessKeyId: "AKIAQZ7TEST000000001", secretAccessKey: "Qm8x/Secret+Key-Hb6Vy" };

export interface ReasoningUpstreams {
  vertex: VertexFake;
  anthropic: FakeServer;
  bedrock: FakeServer;
  openai: OpenAiFake;
  azure: FakeServer;
  manifests: Record<string, string>;
  close(): Promise<void>;
}

const GROUP_VERSION = "llm.switchboard.dev/v1alpha1";

function manifests(name: string, type: string, credentials: string, fields: Json, models: Json[]): string {
  const docs: Json[] = [
    { apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: { value: credentials } },
    {
      apiVersion: GROUP_VERSION,
      kind: "LLMProvider",
      metadata: { name },
      spec: {
        type,
        ...fields,
        credentials: { secretRef: { name, key: "value" } },
        models,
        healthCheck: { probe: "none" },
      },
    },
    ...models.map((model) => ({
      apiVersion: GROUP_VERSION,
      kind: "LLMRoute",
      metadata: { name: String(model.name) },
      spec: { model: model.name, targets: [{ provider: name, model: model.name }], retries: { attempts: 0 } },
    })),
  ];
  return docs.map((doc) => stringify(doc, { version: "1.1" })).join("---\n");
}

const pricing = { inputPer1M: 1, outputPer1M: 10 };

export async function startReasoningUpstreams(): Promise<ReasoningUpstreams> {
  const account = createTestServiceAccount(PROJECT, "http://127.0.0.1:1/token");
  const [vertex, anthropic, bedrock, openai, azure] = await Promise.all([
    startVertexFake({
      project: PROJECT,
      region: REGION,
      serviceAccountEmail: account.key.client_email,
      serviceAccountPublicKey: account.publicKey,
    }),
    startAnthropicFake({ apiKey: ANTHROPIC_KEY }),
    startBedrockFake({ ...AWS, region: "us-east-1" }),
    startOpenAiFake({ apiKey: OPENAI_KEY, flavor: "openai" }),
    startAzureOpenAiFake({ apiKey: AZURE_KEY, deployments: { "o-series-azure": "o4-mini" } }),
  ]);
  account.key.token_uri = vertex.tokenUrl;
  return {
    vertex,
    anthropic,
    bedrock,
    openai,
    azure,
    manifests: {
      "vertex.yaml": manifests(
        "vertex",
        "vertex",
        JSON.stringify(account.key),
        { endpoint: vertex.url, project: PROJECT, region: REGION },
        [
          { name: "gemini-2.5", providerModel: "gemini-2.5-flash", pricing },
          { name: "gemini-3", providerModel: "gemini-3-pro-preview", pricing },
          { name: "claude-vertex", providerModel: "claude-sonnet-4-5@20250929", pricing },
        ],
      ),
      "anthropic.yaml": manifests("anthropic", "anthropic", ANTHROPIC_KEY, { endpoint: anthropic.url }, [
        { name: "claude", providerModel: "claude-sonnet-4-5", pricing },
      ]),
      "bedrock.yaml": manifests(
        "bedrock",
        "bedrock",
        JSON.stringify(AWS),
        { endpoint: bedrock.url, region: "us-east-1" },
        [{ name: "claude-bedrock", providerModel: "anthropic.claude-sonnet-4-5-20250929-v1:0", pricing }],
      ),
      "openai.yaml": manifests("openai", "openai", OPENAI_KEY, { endpoint: openai.baseUrl }, [
        { name: "o-series", providerModel: "o4-mini", pricing },
      ]),
      "azure.yaml": manifests(
        "azure",
        "azure-openai",
        AZURE_KEY,
        // Reasoning deployments need a preview api-version (2024-12-01-preview or later).
        { endpoint: azure.url, apiVersion: "2025-04-01-preview" },
        [{ name: "o-series-azure", providerModel: "o-series-azure", pricing }],
      ),
    },
    close: async () => {
      await Promise.all([vertex, anthropic, bedrock, openai, azure].map((fake) => fake.close()));
    },
  };
}

export const OPENAI_WEATHER_TOOLS = [{ type: "function" as const, function: WEATHER_TOOL }];
export const ANTHROPIC_WEATHER_TOOLS: Anthropic.Tool[] = [
  {
    name: WEATHER_TOOL.name,
    description: WEATHER_TOOL.description,
    input_schema: { ...WEATHER_TOOL.parameters, type: "object" },
  },
];

export interface ReasoningClients {
  upstreams: ReasoningUpstreams;
  gateway: TestGateway;
  openai: OpenAI;
  anthropic: Anthropic;
}

/** Starts the upstreams and a gateway in front of them for a suite, with both SDKs pointed at it. */
export function useReasoningGateway(): ReasoningClients {
  const clients = {} as ReasoningClients;
  beforeAll(async () => {
    clients.upstreams = await startReasoningUpstreams();
    clients.gateway = await startTestGateway(clients.upstreams.manifests);
    clients.openai = new OpenAI({ baseURL: `${clients.gateway.url}/v1`, apiKey: "client", maxRetries: 0 });
    clients.anthropic = new Anthropic({ baseURL: clients.gateway.url, apiKey: "client", maxRetries: 0 });
  });
  afterAll(async () => {
    await clients.gateway?.close();
    await clients.upstreams?.close();
  });
  return clients;
}

/** Claude's three platforms: which fake serves each route and how its wire carries thinking. */
export interface ClaudeWire {
  model: "claude" | "claude-vertex" | "claude-bedrock";
  fake: (upstreams: ReasoningUpstreams) => FakeServer;
  /** The thinking parameter of a request body. */
  thinking: (body: Json) => unknown;
  /** The assistant turns of a request body, as Messages API blocks (thinking, text, tool_use). */
  assistantTurns: (body: Json) => Json[][];
}

const messagesApiTurns = (body: Json): Json[][] =>
  (body.messages as Json[]).filter((m) => m.role === "assistant").map((m) => m.content as Json[]);

/** A Converse content block in the Messages API's shape, so tests compare one form. */
function fromConverse(block: Json): Json {
  const reasoning = block.reasoningContent as
    { reasoningText?: { text: string; signature?: string }; redactedContent?: string } | undefined;
  if (reasoning?.reasoningText)
    return {
      type: "thinking",
      thinking: reasoning.reasoningText.text,
      signature: reasoning.reasoningText.signature,
    };
  if (reasoning) return { type: "redacted_thinking", data: reasoning.redactedContent };
  const use = block.toolUse as Json | undefined;
  if (use) return { type: "tool_use", id: use.toolUseId, name: use.name, input: use.input };
  return { type: "text", text: block.text };
}

export const CLAUDE_WIRES: ClaudeWire[] = [
  {
    model: "claude",
    fake: (u) => u.anthropic,
    thinking: (body) => body.thinking,
    assistantTurns: messagesApiTurns,
  },
  {
    model: "claude-vertex",
    fake: (u) => u.vertex,
    thinking: (body) => body.thinking,
    assistantTurns: messagesApiTurns,
  },
  {
    model: "claude-bedrock",
    fake: (u) => u.bedrock,
    thinking: (body) => (body.additionalModelRequestFields as Json | undefined)?.thinking,
    assistantTurns: (body) =>
      (body.messages as Json[])
        .filter((m) => m.role === "assistant")
        .map((m) => (m.content as Json[]).map(fromConverse)),
  },
];
