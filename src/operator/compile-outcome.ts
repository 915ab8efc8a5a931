import type { Diagnostic } from "../shared/compile.js";
import type { GatewayConfig } from "../shared/schemas/gateway-config.js";

/**
 * What the last compile of the watched resources concluded, shared by the per-kind controllers so
 * each can derive its resources' conditions without compiling again.
 */
export interface CompileOutcome {
  /** `Kind/namespace/name` → the metadata.generation that compile saw. */
  compiledGenerations: Map<string, number | undefined>;
  /** `Kind/namespace/name` → diagnostics naming that resource. */
  diagnostics: Map<string, Diagnostic[]>;
  /** Error diagnostics of the last compile, if it was refused. */
  blockingErrors: Diagnostic[];
  /** The snapshot the gateways are told to serve (the last good one). */
  published?: GatewayConfig;
}

export function emptyCompileOutcome(): CompileOutcome {
  return { compiledGenerations: new Map(), diagnostics: new Map(), blockingErrors: [] };
}

export function resourceKey(kind: "LLMProvider" | "LLMRoute", namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}
