import {
  emptyCompileOutcome,
  setPublished,
  type CompileOutcome,
} from "../../../src/operator/compile-outcome.js";
import { compileByNamespace } from "../../../src/operator/compile-by-namespace.js";
import {
  mergeGatewayStates,
  type MergedGatewayState,
} from "../../../src/operator/gateway-state/merge-gateway-states.js";
import type { ModelState } from "../../../src/shared/schemas/gateway-state.js";
import type { WatchedObject } from "../../../src/operator/informers/watched-resources.js";

export const API_KEY = "sk-test-SECRET-VALUE-0123456789";

function custom(kind: "LLMProvider" | "LLMRoute") {
  return (namespace: string, name: string, spec: Record<string, unknown>, generation = 1): WatchedObject => ({
    apiVersion: "llm.switchboard.dev/v1alpha1",
    kind,
    metadata: { namespace, name, generation, uid: `uid-${name}` },
    spec,
  });
}

export const provider = custom("LLMProvider");
export const route = custom("LLMRoute");

export function secret(namespace: string, name: string, data: Record<string, string>): WatchedObject {
  const encoded = Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
  );
  return { apiVersion: "v1", kind: "Secret", metadata: { namespace, name }, data: encoded };
}

export function openAiSpec(secretName = "openai-key", key = "apiKey"): Record<string, unknown> {
  return {
    type: "openai-compatible",
    endpoint: "http://127.0.0.1:9/v1",
    credentials: { secretRef: { name: secretName, key } },
    models: [{ name: "gpt" }, { name: "mini" }],
  };
}

/** Compiles like the snapshot controller does: namespace by namespace, keeping refused ones' last good part. */
export function compileOutcome(
  objects: WatchedObject[],
  previous: CompileOutcome = emptyCompileOutcome(),
): CompileOutcome {
  const secrets = objects.filter((o) => o.kind === "Secret");
  const compiled = compileByNamespace(
    objects.filter((o) => o.kind === "LLMProvider"),
    objects.filter((o) => o.kind === "LLMRoute"),
    (namespace, name) =>
      secrets.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name),
    previous.published,
  );
  const outcome: CompileOutcome = {
    ...previous,
    compiledGenerations: compiled.compiledGenerations,
    diagnostics: compiled.diagnostics,
    blockingErrors: compiled.refused,
  };
  setPublished(outcome, compiled.config);
  return outcome;
}

/** The gateways' merged state when one gateway reports `models` of provider a/p. */
export function stateOfProviderP(configVersion: string | null, models: ModelState[]): MergedGatewayState {
  return mergeGatewayStates([
    { configVersion, generatedAt: "2026-01-01T00:00:00Z", providers: [{ providerId: "a/p", models }] },
  ]);
}
