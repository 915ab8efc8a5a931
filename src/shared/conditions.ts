import { redactSecrets } from "./redact.js";
import type { Condition } from "./schemas/common.js";

/** What a controller decides about one condition; timestamps are filled in by mergeConditions. */
export interface DesiredCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  /** CamelCase, e.g. SecretNotFound. */
  reason: string;
  message: string;
}

/**
 * Builds the condition list keyed by type, in the order desired; every message is redacted. lastTransitionTime moves only
 * when a condition's status changes, so a re-reconcile with the same outcome changes nothing.
 */
export function mergeConditions(
  existing: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  observedGeneration: number | undefined,
  now: Date = new Date(),
): Condition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c]));
  return desired.map((d) => {
    const previous = byType.get(d.type);
    const lastTransitionTime =
      previous && previous.status === d.status
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, "Z");
    return {
      type: d.type,
      status: d.status,
      observedGeneration,
      lastTransitionTime,
      reason: d.reason,
      message: redactSecrets(d.message),
    };
  });
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** The conditions a new object starts with: every type Unknown, never absent. */
export function unknownConditions(types: readonly string[], message: string): DesiredCondition[] {
  return types.map((type) => ({ type, status: "Unknown", reason: "Reconciling", message }));
}
