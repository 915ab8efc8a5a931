import type { ServerResponse } from "node:http";
import type { RecordedRequest } from "../../fakes/fake-http-server.js";
import type { GatewayState, ModelState } from "../../../src/shared/schemas/gateway-state.js";

/**
 * Manifests and client helpers for the routing integration tests. Manifests are written as JSON
 * documents, which are valid YAML, so each test states its providers and routes as objects.
 */

export const OPENAI_KEY = "sk-proj-routingTestKey0123456789abcdef";
export const ANTHROPIC_KEY = "sk-ant-routing-test-key-0123456789";

export interface ModelSpec {
  name: string;
  providerModel?: string;
  kind?: "chat" | "embedding";
  contextWindow?: number;
  maxOutputTokens?: number;
  dimensions?: number;
  supportsTools?: boolean;
  pricing?: { inputPer1M: number; outputPer1M?: number };
}

export interface ProviderSpec {
  name: string;
  type: "openai" | "anthropic";
  /** Base URL of the fake: with /v1 for openai, without for anthropic. */
  endpoint: string;
  models?: ModelSpec[];
  dataResidency?: { boundary: "provider-cloud" | "customer-cloud" | "on-premises"; region?: string };
  timeouts?: { connect?: string; firstToken?: string; idle?: string; total?: string };
  healthCheck?: { interval?: string; timeout?: string; probe?: "models" | "completion" | "none" };
  circuitBreaker?: {
    failureThreshold?: number;
    windowSeconds?: number;
    openSeconds?: number;
    halfOpenRequests?: number;
  };
}

export interface RouteSpec {
  name: string;
  model: string;
  strategy?: "priority" | "weighted" | "round-robin" | "least-latency" | "lowest-cost";
  targets: Array<{ provider: string; model: string; weight?: number; priority?: number }>;
  fallback?: { onErrors?: string[]; maxAttempts?: number };
  retries?: { attempts?: number; backoff?: string; maxBackoff?: string; respectRetryAfter?: boolean };
  policy?: { dataResidency?: { allowedBoundaries?: string[]; allowedRegions?: string[] } };
}

const GROUP = "llm.switchboard.dev/v1alpha1";

export function providerDocs(spec: ProviderSpec): string {
  const secret = `${spec.name}-key`;
  const docs = [
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: secret, namespace: "default" },
      stringData: { apiKey: spec.type === "openai" ? OPENAI_KEY : ANTHROPIC_KEY },
    },
    {
      apiVersion: GROUP,
      kind: "LLMProvider",
      metadata: { name: spec.name, namespace: "default" },
      spec: {
        type: spec.type,
        endpoint: spec.endpoint,
        credentials: { secretRef: { name: secret, key: "apiKey" } },
        models: spec.models ?? [
          { name: "chat", providerModel: spec.type === "openai" ? "gpt-4o-mini" : "claude-haiku-4-5" },
        ],
        dataResidency: spec.dataResidency,
        // Probes would consume injected faults: off unless a test turns them on.
        healthCheck: spec.healthCheck ?? { probe: "none" },
        timeouts: spec.timeouts ?? { firstToken: "5s", total: "10s" },
        circuitBreaker: spec.circuitBreaker,
      },
    },
  ];
  return docs.map((d) => JSON.stringify(d)).join("\n---\n");
}

export function routeDocs(spec: RouteSpec): string {
  return JSON.stringify({
    apiVersion: GROUP,
    kind: "LLMRoute",
    metadata: { name: spec.name, namespace: "default" },
    spec: {
      model: spec.model,
      strategy: spec.strategy,
      targets: spec.targets,
      fallback: spec.fallback,
      retries: spec.retries ?? { attempts: 0 },
      policy: spec.policy,
    },
  });
}

export function manifests(providers: ProviderSpec[], routes: RouteSpec[]): Record<string, string> {
  return {
    "providers.yaml": providers.map(providerDocs).join("\n---\n"),
    "routes.yaml": routes.map(routeDocs).join("\n---\n"),
  };
}

export interface ChatReply {
  status: number;
  headers: Headers;
  /** JSON body, or for streams the raw SSE text. */
  body: unknown;
  text: string;
  ms: number;
}

export async function chat(
  baseUrl: string,
  model: string,
  content: string,
  options: { stream?: boolean; extra?: Record<string, unknown> } = {},
): Promise<ChatReply> {
  const started = performance.now();
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model,
      messages: [{ role: "user", content }],
      stream: options.stream ?? false,
      ...options.extra,
    }),
  });
  const text = await res.text();
  let body: unknown = text;
  if (!options.stream || !res.headers.get("content-type")?.startsWith("text/event-stream")) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, headers: res.headers, body, text, ms: performance.now() - started };
}

/** Concatenated content deltas of an OpenAI-format SSE reply. */
export function streamedText(sse: string): string {
  let out = "";
  for (const line of sse.split("\n")) {
    if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
    const chunk = JSON.parse(line.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> };
    out += chunk.choices?.[0]?.delta?.content ?? "";
  }
  return out;
}

/** Error objects sent inside an SSE reply. */
export function streamedErrors(sse: string): Array<{ code?: string; message: string }> {
  return sse
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line !== "data: [DONE]")
    .map((line) => JSON.parse(line.slice(6)) as { error?: { code?: string; message: string } })
    .flatMap((chunk) => (chunk.error ? [chunk.error] : []));
}

/** Chat calls a fake received (probes and model listings excluded). */
export function chatCalls(requests: RecordedRequest[]): RecordedRequest[] {
  return requests.filter(
    (r) => r.method === "POST" && /\/(chat\/completions|messages)$/.test(r.url.split("?")[0]!),
  );
}

export async function adminState(adminUrl: string): Promise<GatewayState> {
  const res = await fetch(`${adminUrl}/admin/state`);
  if (!res.ok) throw new Error(`GET /admin/state answered ${res.status}`);
  return (await res.json()) as GatewayState;
}

export function modelState(state: GatewayState, providerId: string, model: string): ModelState {
  const found = state.providers
    .find((p) => p.providerId === providerId)
    ?.models.find((m) => m.model === model);
  if (!found) throw new Error(`no state for ${providerId}/${model}`);
  return found;
}

/** Answers 200 with SSE headers at once, then holds the stream open: for a slow first token after the headers. */
export function holdAfterHeaders(res: ServerResponse, ms: number): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders();
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
