/**
 * Manifests for the consumers/limits/cache/accounting suites, written as JSON documents (JSON is
 * YAML) so the tests can build them from plain objects.
 */

const API = "llm.switchboard.dev/v1alpha1";

export function docs(...objects: object[]): string {
  return objects.map((o) => JSON.stringify(o)).join("\n---\n");
}

export interface ModelSpec {
  name: string;
  providerModel?: string;
  kind?: "chat" | "embedding";
  pricing?: { inputPer1M: number; outputPer1M: number };
  contextWindow?: number;
  maxOutputTokens?: number;
  dimensions?: number;
}

export function provider(
  name: string,
  endpoint: string,
  models: ModelSpec[],
  extra: { limits?: Record<string, number>; apiKeySecret?: string } = {},
): object {
  return {
    apiVersion: API,
    kind: "LLMProvider",
    metadata: { name, namespace: "default" },
    spec: {
      type: "openai-compatible",
      endpoint,
      credentials: extra.apiKeySecret
        ? { secretRef: { name: extra.apiKeySecret, key: "apiKey" } }
        : { none: {} },
      models,
      ...(extra.limits ? { limits: extra.limits } : {}),
      // Probes off: the suites count upstream requests.
      healthCheck: { probe: "none" },
    },
  };
}

export function route(name: string, spec: Record<string, unknown>): object {
  return {
    apiVersion: API,
    kind: "LLMRoute",
    metadata: { name, namespace: "default" },
    spec: { model: name, ...spec },
  };
}

export function secret(name: string, stringData: Record<string, string>): object {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "default" }, stringData };
}

export function chatBody(text: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ messages: [{ role: "user", content: text }], ...extra });
}

/** The fields of a gateway access-log line the traffic suites add up. */
export interface AccessLine {
  msg: string;
  route?: string;
  outcome?: string;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
}
