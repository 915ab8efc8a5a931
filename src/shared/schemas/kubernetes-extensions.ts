import type { z } from "zod";

/**
 * Kubernetes OpenAPI extensions attached to zod schemas as metadata. `z.toJSONSchema`
 * copies a schema's metadata into its JSON Schema node, so the CRD generator
 * (src/shared/crd/) emits them where they are declared; zod itself ignores them.
 */

/** One CEL rule of `x-kubernetes-validations`, enforced by the API server at apply time. */
export interface CelRule {
  /** CEL expression over `self` (the value of the field the rule is attached to). */
  rule: string;
  /** What the user sees when the rule fails; name the field and what to do. */
  message: string;
  /** CEL expression producing the message from `self`; `message` is the fallback. */
  messageExpression?: string;
  /** JSON path, relative to `self`, of the field the error is reported on (e.g. `.endpoint`). */
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

export const CEL_RULES_KEY = "x-kubernetes-validations";

/**
 * Attaches CEL rules to a schema (added to any it already has). Strings a rule
 * reads need a maxLength and lists a maxItems, or the API server's CEL cost
 * estimate rejects the CRD.
 */
export function withCelRules<T extends z.ZodType>(schema: T, rules: readonly CelRule[]): T {
  const existing = (schema.meta()?.[CEL_RULES_KEY] as CelRule[] | undefined) ?? [];
  return schema.meta({ [CEL_RULES_KEY]: [...existing, ...rules] }) as T;
}

/**
 * Marks a list of objects as a map keyed by the given fields, so server-side apply
 * merges entries by key (Kubernetes conditions are keyed by `type`).
 */
export function asListMap<T extends z.ZodArray>(schema: T, keys: readonly string[]): T {
  return schema.meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [...keys] }) as T;
}
