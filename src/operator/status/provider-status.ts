import type { Diagnostic } from "../../shared/compile.js";
import type { LLMProvider } from "../../shared/schemas/llm-provider.js";
import type { z } from "zod";
import type { llmProviderStatusSchema } from "../../shared/schemas/llm-provider.js";
import { resourceKey, type CompileOutcome } from "../compile-outcome.js";
import type { MergedGatewayState } from "../gateway-state/merge-gateway-states.js";
import { mergeConditions, type DesiredCondition } from "../../shared/conditions.js";
import { describeDiagnostics, notYetCompiledConditions, readyFromPublication } from "./readiness.js";

export type LLMProviderStatus = z.infer<typeof llmProviderStatusSchema>;

export const PROVIDER_CONDITION_TYPES = ["Ready", "CredentialsResolved", "Healthy"] as const;
const CREDENTIAL_REASONS = new Set(["SecretNotFound", "KeyNotFound"]);

function credentialsCondition(
  provider: LLMProvider,
  diagnostics: Diagnostic[],
  invalid: boolean,
): DesiredCondition {
  const missing = diagnostics.find((d) => CREDENTIAL_REASONS.has(d.reason));
  if (missing)
    return { type: "CredentialsResolved", status: "False", reason: missing.reason, message: missing.message };
  if (invalid) {
    return {
      type: "CredentialsResolved",
      status: "Unknown",
      reason: "InvalidSpec",
      message: "credentials are not checked until the spec is valid",
    };
  }
  const creds = provider.spec?.credentials ?? {};
  if (creds.secretRef) {
    return {
      type: "CredentialsResolved",
      status: "True",
      reason: "SecretResolved",
      message: `API key read from Secret "${creds.secretRef.name}" key "${creds.secretRef.key}"`,
    };
  }
  if (creds.workloadIdentity) {
    return {
      type: "CredentialsResolved",
      status: "True",
      reason: "WorkloadIdentity",
      message: "keyless credentials from the cloud SDK's default chain",
    };
  }
  return {
    type: "CredentialsResolved",
    status: "True",
    reason: "NoCredentials",
    message: "the provider needs no credentials",
  };
}

function healthyCondition(
  state: MergedGatewayState | undefined,
  providerId: string,
  served: boolean,
): DesiredCondition {
  if (!served)
    return {
      type: "Healthy",
      status: "Unknown",
      reason: "NotServed",
      message: "the gateways do not serve this provider yet",
    };
  const merged = state?.providers.get(providerId);
  if (!state || state.gateways === 0) {
    return {
      type: "Healthy",
      status: "Unknown",
      reason: "NoGatewayState",
      message: "no ready gateway has reported its state yet",
    };
  }
  if (!merged) {
    // Gateways are ready, but the last round came before they loaded the snapshot with it.
    const gateways = `${state.gateways} ready gateway${state.gateways === 1 ? "" : "s"}`;
    return {
      type: "Healthy",
      status: "Unknown",
      reason: "NoGatewayState",
      message: `${gateways} reported, but not this provider yet: they serve an older config (the next state collection sees it)`,
    };
  }
  const detail = `${merged.circuit} circuit, ${merged.consecutiveFailures} consecutive failures${
    merged.lastErrorClass ? `, last error ${merged.lastErrorClass}` : ""
  } (across ${state.gateways} gateway${state.gateways === 1 ? "" : "s"})`;
  switch (merged.health) {
    case "healthy":
      return { type: "Healthy", status: "True", reason: "Healthy", message: `upstream healthy: ${detail}` };
    case "degraded":
      return { type: "Healthy", status: "True", reason: "Degraded", message: `upstream degraded: ${detail}` };
    case "unhealthy": {
      const open = [...merged.models].filter(([, m]) => m.circuit === "open").map(([name]) => name);
      const reason = merged.circuit === "open" ? "CircuitOpen" : "Unhealthy";
      const models = open.length > 0 ? `; circuit open for ${open.join(", ")}` : "";
      return { type: "Healthy", status: "False", reason, message: `upstream unhealthy: ${detail}${models}` };
    }
    default:
      return {
        type: "Healthy",
        status: "Unknown",
        reason: "NotProbed",
        message: "the gateways have not probed this provider yet",
      };
  }
}

/**
 * The status an LLMProvider should have given the last compile and the gateways' merged state,
 * or undefined when there is nothing to say yet (the compile has not seen this generation and
 * the object already has conditions).
 */
export function desiredProviderStatus(
  provider: LLMProvider,
  outcome: CompileOutcome,
  state: MergedGatewayState | undefined,
  now: Date = new Date(),
): LLMProviderStatus | undefined {
  const namespace = provider.metadata.namespace ?? "default";
  const key = resourceKey("LLMProvider", namespace, provider.metadata.name);
  const providerId = `${namespace}/${provider.metadata.name}`;
  const generation = provider.metadata.generation;
  const current = provider.status;

  if (!outcome.compiledGenerations.has(key) || outcome.compiledGenerations.get(key) !== generation) {
    const conditions = notYetCompiledConditions(current, PROVIDER_CONDITION_TYPES, generation, now);
    return conditions && { ...current, conditions };
  }

  const diagnostics = outcome.diagnostics.get(key) ?? [];
  const errors = diagnostics.filter((d) => d.severity === "error");
  const publishedProvider = outcome.publishedProviders.get(providerId);
  // Stable across unrelated changes, so one publish does not rewrite every provider's status.
  const configVersion = publishedProvider
    ? (outcome.introducedIn.get(providerId) ?? current?.configVersion ?? outcome.published?.version)
    : undefined;
  const credentials = credentialsCondition(provider, diagnostics, errors.length > 0);
  let ready: DesiredCondition;
  if (errors.length > 0) {
    ready = {
      type: "Ready",
      status: "False",
      reason: errors[0]!.reason,
      message: describeDiagnostics(errors),
    };
  } else if (credentials.status === "False") {
    ready = {
      type: "Ready",
      status: "False",
      reason: credentials.reason,
      message: `${credentials.message}; requests to this provider fail until it is fixed`,
    };
  } else {
    ready = readyFromPublication(
      outcome,
      namespace,
      publishedProvider?.generation,
      generation,
      publishedProvider !== undefined,
    );
  }
  const servedNow = publishedProvider !== undefined;
  const healthy = healthyCondition(state, providerId, servedNow);
  const merged = servedNow ? state?.providers.get(providerId) : undefined;

  const status: LLMProviderStatus = {
    observedGeneration: generation,
    conditions: mergeConditions(current?.conditions, [ready, credentials, healthy], generation, now),
    health: merged?.health ?? "unknown",
  };
  if (merged) {
    status.circuit = merged.circuit;
    status.consecutiveFailures = merged.consecutiveFailures;
    if (merged.p50Ms !== undefined || merged.p95Ms !== undefined) {
      status.latency = { p50Ms: round(merged.p50Ms), p95Ms: round(merged.p95Ms) };
    }
    if (merged.lastProbeTime) status.lastProbeTime = merged.lastProbeTime;
  }
  if (configVersion) status.configVersion = configVersion;
  return status;
}

function round(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 10) / 10;
}
