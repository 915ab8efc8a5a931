import type { Diagnostic } from "../../shared/compile.js";
import { redactedExcerpt } from "../../shared/redact.js";
import type { Condition } from "../../shared/schemas/common.js";
import type { CompileOutcome } from "../compile-outcome.js";
import { mergeConditions, unknownConditions, type DesiredCondition } from "../../shared/conditions.js";

const MAX_MESSAGE = 1024;

/** Joins diagnostic messages into one condition message of bounded size, redacted before the cut. */
export function describeDiagnostics(diagnostics: readonly Diagnostic[]): string {
  return redactedExcerpt(diagnostics.map((d) => d.message).join("; "), MAX_MESSAGE - 1);
}

/**
 * The conditions while the last compile has not seen this generation: all Unknown for an object
 * that has none yet, otherwise undefined (they stay as they are until the compile catches up).
 */
export function notYetCompiledConditions(
  current: { conditions?: Condition[] } | undefined,
  types: readonly string[],
  generation: number | undefined,
  now: Date,
): Condition[] | undefined {
  if (current?.conditions?.length) return undefined;
  return mergeConditions(
    undefined,
    unknownConditions(types, "the operator has not compiled this generation yet"),
    generation,
    now,
  );
}

/**
 * Ready for a valid resource: True only once the published snapshot carries this generation, so
 * Ready=True means "the gateways are told to serve exactly this spec".
 */
export function readyFromPublication(
  outcome: CompileOutcome,
  namespace: string,
  publishedGeneration: number | undefined,
  generation: number | undefined,
  published: boolean,
): DesiredCondition {
  if (published && publishedGeneration === generation) {
    return {
      type: "Ready",
      status: "True",
      reason: "Published",
      message: "the published gateway config carries this generation",
    };
  }
  const blocking = outcome.blockingErrors.get(namespace) ?? [];
  if (blocking.length > 0) {
    const first = blocking[0]!;
    const more = blocking.length > 1 ? ` (and ${blocking.length - 1} more)` : "";
    return {
      type: "Ready",
      status: "False",
      reason: "ConfigNotPublished",
      message: describeDiagnostics([
        {
          ...first,
          message: `this generation is not live: namespace "${namespace}" keeps its last good config because ${first.resource} is invalid: ${first.message}${more}`,
        },
      ]),
    };
  }
  return {
    type: "Ready",
    status: "Unknown",
    reason: "Publishing",
    message: "the gateway config snapshot is being published",
  };
}
