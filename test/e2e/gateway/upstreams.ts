import { stringify } from "yaml";
import { TEXT_COMPLETION_TYPES, type ProviderType } from "../../../src/shared/schemas/llm-provider.js";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startOpenAiFake } from "../../fakes/openai-fake.js";
import { startAzureOpenAiFake } from "../../fakes/azure-openai-fake.js";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";
import { startBedrockFake } from "../../fakes/bedrock-fake.js";
import { createTestServiceAccount, startVertexFake } from "../../fakes/vertex-fake.js";

/**
 * Every upstream the gateway can talk to, each behind its protocol-faithful fake, with the
 * LLMProvider / LLMRoute / Secret manifests a user would write for it, and the protocol facts
 * the end-to-end matrix needs to check what the upstream received.
 *
 * Per upstream `key` the manifests declare routes `chat-<key>`, `badkey-<key>` (same upstream,
 * wrong credentials), where the row has one `embed-<key>`, where the type has text completions
 * `complete-<key>` (the chat model declared `textCompletions: true`), and `<name>-<key>` for each isolated
 * chat route asked for: the same upstream model behind a target of its own, for scenarios whose
 * effect on the target (a Retry-After cool-down) must not reach the others.
 */

/** How a protocol family writes requests, as recorded by its fake. */
export type Family = "openai" | "anthropic" | "bedrock" | "gemini";

type Json = Record<string, unknown>;

export interface ToolResultSeen {
  /** The call id, or the function name where the protocol keys results by name (Gemini). */
  ref: string;
  text: string;
}

export interface RawFinishReasons {
  stop: string;
  toolCalls: string;
  contentFilter: string;
  length: string;
}

const list = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);
const field = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((at, key) => (at as Json | undefined)?.[key], value);
const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : list(content)
        .map((b) => String(b.text ?? ""))
        .join("");
const blocks = (body: Json): Json[] => list(body.messages).flatMap((m) => list(m.content));
const inner =
  (key: string) =>
  (item: Json): Json[] =>
    item[key] ? [item[key] as Json] : [];
const results = (items: Json[], ref: string, text: (item: Json) => string): ToolResultSeen[] =>
  items.map((item) => ({ ref: String(item[ref]), text: text(item) }));

/** The raw finish reasons each family reports, which the gateway keeps in its extension field. */
export const RAW_FINISH: Record<Family, RawFinishReasons> = {
  openai: { stop: "stop", toolCalls: "tool_calls", contentFilter: "content_filter", length: "length" },
  anthropic: { stop: "end_turn", toolCalls: "tool_use", contentFilter: "refusal", length: "max_tokens" },
  bedrock: {
    stop: "end_turn",
    toolCalls: "tool_use",
    contentFilter: "guardrail_intervened",
    length: "max_tokens",
  },
  gemini: { stop: "STOP", toolCalls: "STOP", contentFilter: "SAFETY", length: "MAX_TOKENS" },
};

/** The tool results an upstream request carries, in each family's wire format. */
export const TOOL_RESULTS_SENT: Record<Family, (body: Json) => ToolResultSeen[]> = {
  openai: (body) =>
    results(
      list(body.messages).filter((m) => m.role === "tool"),
      "tool_call_id",
      (m) => textOf(m.content),
    ),
  anthropic: (body) =>
    results(
      blocks(body).filter((b) => b.type === "tool_result"),
      "tool_use_id",
      (b) => textOf(b.content),
    ),
  bedrock: (body) =>
    results(blocks(body).flatMap(inner("toolResult")), "toolUseId", (r) => textOf(r.content)),
  gemini: (body) =>
    results(
      list(body.contents).flatMap((c) => list(c.parts).flatMap(inner("functionResponse"))),
      "name",
      (r) => JSON.stringify(r.response),
    ),
};

/** What a tool result refers to its call by: Gemini has no call ids and uses the function name. */
export const TOOL_RESULT_REF: Record<Family, "id" | "name"> = {
  openai: "id",
  anthropic: "id",
  bedrock: "id",
  gemini: "name",
};

/** Whether an upstream request asks natively for JSON output of this mode. */
export const NATIVE_JSON_SENT: Record<Family, (body: Json, mode: string) => boolean> = {
  openai: (body, mode) => field(body, "response_format", "type") === mode,
  anthropic: (body, mode) => field(body, "output_config", "format", "type") === mode,
  bedrock: (body, mode) => field(body, "outputConfig", "textFormat", "type") === mode,
  gemini: (body) => field(body, "generationConfig", "responseMimeType") === "application/json",
};

/** The system prompt an upstream request carries (where JSON instructions go). */
export const SYSTEM_PROMPT_SENT: Record<Family, (body: Json) => string> = {
  openai: (body) =>
    list(body.messages)
      .filter((m) => m.role === "system")
      .map((m) => textOf(m.content))
      .join("\n"),
  anthropic: (body) => textOf(body.system),
  bedrock: (body) => textOf(body.system),
  gemini: (body) => textOf(field(body, "systemInstruction", "parts")),
};

/** Whether the family's fake answers a native JSON request with JSON (Bedrock's ignores outputConfig). */
export const FAKE_ANSWERS_NATIVE_JSON: Record<Family, boolean> = {
  openai: true,
  anthropic: true,
  bedrock: false,
  gemini: true,
};

/** What the matrix knows about an upstream before anything runs (so tests can be declared from it). */
export interface UpstreamSpec {
  key: string;
  /** The row of docs/providers.md this upstream is checked against. */
  row: string;
  type: ProviderType;
  family: Family;
  /** How the matrix authenticates to it. */
  auth: "secretRef" | "none";
  chatModel: string;
  embedding?: { model: string; dimensions: number };
  /** The prompt word that ends an answer with the provider's content-filter finish reason. */
  contentFilterTrigger: string;
  /** A prompt word that makes the upstream refuse the prompt itself with a content-filter error. */
  promptFilterTrigger?: string;
  /** Retry-After the client should see on a rate limit (the upstream's hint), if it sends one. */
  retryAfter?: string;
  /** Whether the fake can fail a stream before its first event (TRIGGER_EARLY_STREAM_ERROR). */
  earlyStreamError: boolean;
}

export interface Upstream extends UpstreamSpec {
  fake: FakeServer;
  /** `none` or the Secret value (API key, AWS keys JSON, service-account JSON key). */
  credentials: string | "none";
  /** Wrong credentials the upstream rejects; absent where the upstream has no auth. */
  badCredentials?: string;
  /** Strings that must never reach a client or a log line. */
  secrets: string[];
  providerFields: Json;
}

const spec = (
  s: Omit<UpstreamSpec, "auth" | "contentFilterTrigger" | "earlyStreamError"> & Partial<UpstreamSpec>,
): UpstreamSpec => ({
  auth: "secretRef",
  contentFilterTrigger: "TRIGGER_CONTENT_FILTER",
  earlyStreamError: false,
  ...s,
});

export const UPSTREAMS: UpstreamSpec[] = [
  spec({
    key: "openai",
    row: "openai",
    type: "openai",
    family: "openai",
    chatModel: "gpt-4o-mini",
    embedding: { model: "text-embedding-3-small", dimensions: 1536 },
    retryAfter: "20",
  }),
  spec({
    key: "azure-openai",
    row: "azure-openai",
    type: "azure-openai",
    family: "openai",
    chatModel: "gpt-4o-chat",
    embedding: { model: "embed-small", dimensions: 1536 },
    contentFilterTrigger: "TRIGGER_COMPLETION_FILTER",
    promptFilterTrigger: "TRIGGER_CONTENT_FILTER",
    // retry-after-ms 5283, rounded up.
    retryAfter: "6",
  }),
  spec({
    key: "vllm",
    row: "openai-compatible (vLLM)",
    type: "openai-compatible",
    family: "openai",
    chatModel: "meta-llama/Llama-3.1-8B-Instruct",
    embedding: { model: "BAAI/bge-m3", dimensions: 1536 },
    retryAfter: "20",
  }),
  spec({
    key: "ollama",
    row: "openai-compatible (Ollama)",
    type: "openai-compatible",
    family: "openai",
    auth: "none",
    chatModel: "llama3.1:8b",
    embedding: { model: "nomic-embed-text", dimensions: 768 },
    retryAfter: "20",
  }),
  spec({
    key: "anthropic",
    row: "anthropic",
    type: "anthropic",
    family: "anthropic",
    chatModel: "claude-sonnet-4-5",
    // Declared as an embedding model so the matrix can show what a client gets: a clear 400.
    embedding: { model: "claude-sonnet-4-5", dimensions: 1024 },
    retryAfter: "7",
    earlyStreamError: true,
  }),
  spec({
    key: "bedrock",
    row: "bedrock",
    type: "bedrock",
    family: "bedrock",
    chatModel: "anthropic.claude-3-5-haiku-20241022-v1:0",
    embedding: { model: "amazon.titan-embed-text-v2:0", dimensions: 1024 },
    // ThrottlingException carries no retry hint.
    earlyStreamError: true,
  }),
  spec({
    key: "vertex-gemini",
    row: "vertex (Gemini)",
    type: "vertex",
    family: "gemini",
    chatModel: "gemini-2.5-flash",
    embedding: { model: "text-embedding-005", dimensions: 768 },
    // google.rpc.RetryInfo retryDelay "7s".
    retryAfter: "7",
  }),
  spec({
    key: "vertex-claude",
    row: "vertex (Claude)",
    type: "vertex",
    family: "anthropic",
    chatModel: "claude-sonnet-4-5@20250929",
    retryAfter: "7",
    earlyStreamError: true,
  }),
];

const OPENAI_KEY = "sk-e2e-openai-GOOD-Kq7Vw";
const VLLM_KEY = "vllm-e2e-GOOD-Hx3Pt";
const AZURE_KEY = "azure0e2e0GOOD0key0Jm4Rz";
const ANTHROPIC_KEY = "sk-ant-e2e-GOOD-Ty8Nc";
const AWS = { accessKeyId: "AKIAE2EMATRIX0000001", secretAccessKey: "e2e/Matrix+Secret/GOOD-Wd5Lq" };
const PROJECT = "switchboard-e2e";
const REGION = "us-east5";

export interface Upstreams {
  get(key: string): Upstream;
  /** LLMProvider, LLMRoute and Secret YAML, by file name. */
  manifests: Record<string, string>;
  /** Every credential in play, good and bad: none may reach a client or a log line. */
  secrets: string[];
  close(): Promise<void>;
}

/** PEM body lines are what would leak from a service-account key. */
function pemLines(pem: string): string[] {
  return pem.split("\n").filter((line) => line.length > 40);
}

const wrong = (value: string): string => value.replace("GOOD", "BAD0");

type Runtime = Omit<Upstream, keyof UpstreamSpec>;

function withKey(fake: FakeServer, key: string, providerFields: Json): Runtime {
  return { fake, credentials: key, badCredentials: wrong(key), secrets: [key, wrong(key)], providerFields };
}

/** Starts every fake once and renders the manifests that point the gateway at them. */
export async function startUpstreams(isolatedRoutes: string[] = []): Promise<Upstreams> {
  const [openai, vllm, ollama, azure, anthropic, bedrock] = await Promise.all([
    startOpenAiFake({ apiKey: OPENAI_KEY, flavor: "openai" }),
    startOpenAiFake({ apiKey: VLLM_KEY, flavor: "vllm" }),
    startOpenAiFake({ flavor: "ollama" }),
    startAzureOpenAiFake({
      apiKey: AZURE_KEY,
      deployments: { "gpt-4o-chat": "gpt-4o-2024-08-06", "embed-small": "text-embedding-3-small" },
    }),
    startAnthropicFake({ apiKey: ANTHROPIC_KEY }),
    startBedrockFake({ ...AWS, region: "us-east-1" }),
  ]);
  const account = createTestServiceAccount(PROJECT, "http://127.0.0.1:1/token");
  const stranger = createTestServiceAccount(PROJECT, "http://127.0.0.1:1/token", "stranger");
  const vertex = await startVertexFake({
    project: PROJECT,
    region: REGION,
    serviceAccountEmail: account.key.client_email,
    serviceAccountPublicKey: account.publicKey,
  });
  account.key.token_uri = vertex.tokenUrl;
  stranger.key.token_uri = vertex.tokenUrl;
  const vertexRuntime: Runtime = {
    fake: vertex,
    credentials: JSON.stringify(account.key),
    // A key Google does not know: the token endpoint refuses to issue a token.
    badCredentials: JSON.stringify(stranger.key),
    secrets: [...pemLines(account.key.private_key), ...pemLines(stranger.key.private_key)],
    providerFields: { endpoint: vertex.url, project: PROJECT, region: REGION },
  };
  const runtimes: Record<string, Runtime> = {
    openai: withKey(openai, OPENAI_KEY, { endpoint: openai.baseUrl }),
    "azure-openai": withKey(azure, AZURE_KEY, { endpoint: azure.url, apiVersion: "2024-10-21" }),
    vllm: withKey(vllm, VLLM_KEY, { endpoint: vllm.baseUrl }),
    ollama: { fake: ollama, credentials: "none", secrets: [], providerFields: { endpoint: ollama.baseUrl } },
    anthropic: withKey(anthropic, ANTHROPIC_KEY, { endpoint: anthropic.url }),
    bedrock: {
      fake: bedrock,
      credentials: JSON.stringify(AWS),
      badCredentials: JSON.stringify({ ...AWS, secretAccessKey: wrong(AWS.secretAccessKey) }),
      secrets: [AWS.secretAccessKey, wrong(AWS.secretAccessKey)],
      providerFields: { endpoint: bedrock.url, region: "us-east-1" },
    },
    "vertex-gemini": vertexRuntime,
    "vertex-claude": vertexRuntime,
  };
  const all = new Map(UPSTREAMS.map((s) => [s.key, { ...s, ...runtimes[s.key]! }]));
  return {
    get: (key) => all.get(key)!,
    manifests: Object.fromEntries(
      [...all.values()].map((u) => [`${u.key}.yaml`, renderManifests(u, isolatedRoutes)]),
    ),
    secrets: [...new Set([...all.values()].flatMap((u) => u.secrets))],
    close: async () => {
      await Promise.all([openai, vllm, ollama, azure, anthropic, bedrock, vertex].map((f) => f.close()));
    },
  };
}

const GROUP_VERSION = "llm.switchboard.dev/v1alpha1";

function secret(name: string, value: string): Json {
  return { apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: { value } };
}

function provider(
  upstream: Upstream,
  name: string,
  credentials: string | "none",
  chatModels: string[],
): Json {
  const models: Json[] = chatModels.map((model) => ({ name: model, providerModel: upstream.chatModel }));
  if (servesTextCompletions(upstream))
    models.push({ name: "complete", providerModel: upstream.chatModel, textCompletions: true });
  if (upstream.embedding) {
    models.push({
      name: "embed",
      providerModel: upstream.embedding.model,
      kind: "embedding",
      dimensions: upstream.embedding.dimensions,
    });
  }
  return {
    apiVersion: GROUP_VERSION,
    kind: "LLMProvider",
    metadata: { name },
    spec: {
      type: upstream.type,
      ...upstream.providerFields,
      credentials: credentials === "none" ? { none: {} } : { secretRef: { name, key: "value" } },
      models,
      // The matrix provokes errors on purpose: no probes and no circuit opening in between.
      healthCheck: { probe: "none" },
      circuitBreaker: { failureThreshold: 1000 },
    },
  };
}

export const servesTextCompletions = (u: UpstreamSpec) =>
  (TEXT_COMPLETION_TYPES as readonly string[]).includes(u.type);

function route(model: string, providerName: string, target: string): Json {
  return {
    apiVersion: GROUP_VERSION,
    kind: "LLMRoute",
    metadata: { name: model },
    // One attempt: a client sees each upstream error as it was, not after retries.
    spec: { model, targets: [{ provider: providerName, model: target }], retries: { attempts: 0 } },
  };
}

function renderManifests(upstream: Upstream, isolatedRoutes: string[]): string {
  const docs: Json[] = [];
  const declare = (name: string, credentials: string | "none", chatModels = ["chat"]) => {
    if (credentials !== "none") docs.push(secret(name, credentials));
    docs.push(provider(upstream, name, credentials, chatModels));
  };
  declare(upstream.key, upstream.credentials, ["chat", ...isolatedRoutes]);
  docs.push(route(`chat-${upstream.key}`, upstream.key, "chat"));
  for (const name of isolatedRoutes) docs.push(route(`${name}-${upstream.key}`, upstream.key, name));
  if (upstream.embedding) docs.push(route(`embed-${upstream.key}`, upstream.key, "embed"));
  if (servesTextCompletions(upstream)) docs.push(route(`complete-${upstream.key}`, upstream.key, "complete"));
  if (upstream.badCredentials) {
    declare(`${upstream.key}-badkey`, upstream.badCredentials);
    docs.push(route(`badkey-${upstream.key}`, `${upstream.key}-badkey`, "chat"));
  }
  return docs.map((doc) => stringify(doc, { version: "1.1" })).join("---\n");
}
