import { z } from "zod";
import { asListMap } from "./kubernetes-extensions.js";

export const API_GROUP = "llm.switchboard.dev";
export const API_VERSION = "v1alpha1";
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** Kubernetes-style duration such as `500ms`, `30s`, `5m` or `1h`. */
export const durationSchema = z
  .string()
  .max(32)
  .regex(/^\d+(ms|s|m|h)$/, "must be a duration like 500ms, 30s, 5m or 1h")
  .describe("A duration such as 500ms, 30s, 5m or 1h.");

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

export function durationToMs(duration: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(duration);
  if (!match) throw new Error(`invalid duration "${duration}"`);
  return Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
}

/** DNS-1123 subdomain, the rule Kubernetes applies to most object names. */
export const resourceNameSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "must be a lowercase DNS-1123 name (letters, digits, '-' and '.')",
  );

/** Read by the compiler; in the CRDs the API server owns metadata, so the generator replaces it. */
export const objectMetaSchema = z
  .object({
    name: resourceNameSchema,
    namespace: z.string().optional(),
    generation: z.number().int().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
  })
  .loose();

export type ObjectMeta = z.infer<typeof objectMetaSchema>;

/** Timestamps written by the operator; the CRD checks the format, the compiler does not need to. */
export const timestampSchema = z.string().max(64).meta({ format: "date-time" });

/** status.observedGeneration, shared by every kind so kstatus and Argo CD read it the same way. */
export const observedGenerationSchema = z
  .number()
  .int()
  .min(0)
  .optional()
  .describe("The metadata.generation the operator last acted on.");

/** Same shape and limits as metav1.Condition, so kstatus, Argo CD and Flux read it. */
export const conditionSchema = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .describe("Condition type in CamelCase: Ready, ResolvedRefs, CredentialsResolved or Healthy."),
    status: z.enum(["True", "False", "Unknown"]).describe("True, False or Unknown."),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The metadata.generation this condition was computed from."),
    lastTransitionTime: timestampSchema.describe("When the condition last changed status (RFC 3339)."),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/, "must be CamelCase")
      .describe("CamelCase machine-readable reason for the last transition."),
    message: z.string().max(32768).describe("Human-readable explanation of the condition."),
  })
  .describe("One aspect of the resource's state.");

export type Condition = z.infer<typeof conditionSchema>;

export const conditionsSchema = asListMap(z.array(conditionSchema).max(16), ["type"]).describe(
  "Latest observations of the resource's state, one per condition type.",
);

export const secretKeyRefSchema = z
  .object({
    name: resourceNameSchema.describe("Name of a Secret in the resource's namespace."),
    key: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[-._a-zA-Z0-9]+$/, "must be a Secret data key (letters, digits, '-', '_' and '.')")
      .describe("Key within the Secret's data."),
  })
  .describe("A key of a Secret in the same namespace.");

/** A namespaced custom resource of this API group: apiVersion, kind, metadata, spec and status. */
export function customResourceSchema<K extends string, Spec extends z.ZodType, Status extends z.ZodType>(
  kind: K,
  spec: Spec,
  status: Status,
  description: string,
) {
  return z
    .object({
      apiVersion: z.literal(GROUP_VERSION),
      kind: z.literal(kind),
      metadata: objectMetaSchema,
      spec,
      status: status.optional(),
    })
    .describe(description);
}
