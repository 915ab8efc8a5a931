import type { Diagnostic } from "../../shared/compile.js";
import type { z } from "zod";
import type { LLMRoute, llmRouteStatusSchema } from "../../shared/schemas/llm-route.js";
import { RESIDENCY_EXCLUDES_ALL_TARGETS } from "../../shared/residency-policy.js";
import { publishedTargetAllowance, resourceKey, type CompileOutcome } from "../compile-outcome.js";
import type { MergedGatewayState } from "../gateway-state/merge-gateway-states.js";
import { mergeConditions, type DesiredCondition } from "../../shared/conditions.js";
import { describeDiagnostics, notYetCompiledConditions, readyFromPublication } from "./readiness.js";

export type LLMRouteStatus = z.infer<typeof llmRouteStatusSchema>;

export const ROUTE_CONDITION_TYPES = ["Ready", "ResolvedRefs"] as const;
const REF_REASONS = new Set(["ProviderNotFound", "ModelNotFound"]);

/** The status an LLMRoute should have; undefined when there is nothing new to say yet. */
export function desiredRouteStatus(
  route: LLMRoute,
  outcome: CompileOutcome,
  state: MergedGatewayState | undefined,
  now: Date = new Date(),
): LLMRouteStatus | undefined {
  const namespace = route.metadata.namespace ?? "default";
  const key = resourceKey("LLMRoute", namespace, route.metadata.name);
  const generation = route.metadata.generation;
  const current = route.status;

  if (!outcome.compiledGenerations.has(key) || outcome.compiledGenerations.get(key) !== generation) {
    const conditions = notYetCompiledConditions(current, ROUTE_CONDITION_TYPES, generation, now);
    return conditions && { ...current, conditions };
  }

  const diagnostics = outcome.diagnostics.get(key) ?? [];
  const errors = diagnostics.filter((d) => d.severity === "error");
  // The spec comes straight from the cluster and may be the invalid one being reported.
  const specTargets = Array.isArray(route.spec?.targets) ? route.spec.targets : [];
  // The operator compiles these as warnings: the target is left out, the rest of the route serves.
  const refErrors = diagnostics.filter((d) => REF_REASONS.has(d.reason));
  const resolvedCount = Math.max(0, specTargets.length - refErrors.length);
  let resolvedRefs: DesiredCondition;
  if (refErrors.length > 0) {
    resolvedRefs = {
      type: "ResolvedRefs",
      status: "False",
      reason: refErrors[0]!.reason,
      message: describeDiagnostics(refErrors),
    };
  } else if (consumerSecretProblems(outcome.diagnostics.get(key)).length > 0) {
    // The route serves, but a consumer listed on it cannot authenticate until its Secret exists.
    const problems = consumerSecretProblems(outcome.diagnostics.get(key));
    resolvedRefs = {
      type: "ResolvedRefs",
      status: "False",
      reason: problems[0]!.reason,
      message: describeDiagnostics(problems),
    };
  } else if (errors.some((d) => d.reason === "InvalidSpec")) {
    resolvedRefs = {
      type: "ResolvedRefs",
      status: "Unknown",
      reason: "InvalidSpec",
      message: "references are not checked until the spec is valid",
    };
  } else {
    resolvedRefs = {
      type: "ResolvedRefs",
      status: "True",
      reason: "AllRefsResolved",
      message: `all ${specTargets.length} target${specTargets.length === 1 ? "" : "s"} name an existing provider model in namespace "${namespace}"`,
    };
  }
  const routeId = `${namespace}/${route.metadata.name}`;
  const published = outcome.publishedRoutes.get(routeId);
  const unusable = [...refErrors, ...diagnostics.filter((d) => d.reason === RESIDENCY_EXCLUDES_ALL_TARGETS)];
  let ready: DesiredCondition;
  if (errors.length > 0) {
    ready = {
      type: "Ready",
      status: "False",
      reason: errors[0]!.reason,
      message: describeDiagnostics(errors),
    };
  } else if (unusable.length > 0) {
    const consequence =
      refErrors.length === 0
        ? undefined
        : resolvedCount > 0
          ? `the route sends only to its ${resolvedCount} resolved target${resolvedCount === 1 ? "" : "s"}`
          : "the route has no target left: every call is answered 503 until a target resolves";
    ready = {
      type: "Ready",
      status: "False",
      reason: unusable[0]!.reason,
      message: describeDiagnostics(
        consequence ? [...unusable, { ...unusable[0]!, message: consequence }] : unusable,
      ),
    };
  } else {
    ready = readyFromPublication(
      outcome,
      namespace,
      published?.generation,
      generation,
      published !== undefined,
    );
  }

  const allowance = publishedTargetAllowance(outcome, routeId);
  const targets = specTargets.map((target) => {
    const providerState = state?.providers.get(`${namespace}/${target.provider}`);
    const modelState = providerState?.models.get(target.model);
    const allowed = allowance.get(`${target.provider}/${target.model}`);
    return {
      provider: target.provider,
      model: target.model,
      health: modelState?.health ?? "unknown",
      ...(modelState ? { circuit: modelState.circuit } : {}),
      ...(allowed === undefined ? {} : { allowed }),
    };
  });

  return {
    observedGeneration: generation,
    conditions: mergeConditions(current?.conditions, [ready, resolvedRefs], generation, now),
    strategy: route.spec?.strategy ?? "priority",
    targetCount: resolvedCount,
    targets,
  };
}

function consumerSecretProblems(diagnostics: readonly Diagnostic[] | undefined): Diagnostic[] {
  return (diagnostics ?? []).filter(
    (d) => d.severity === "warning" && (d.reason === "SecretNotFound" || d.reason === "KeyNotFound"),
  );
}
