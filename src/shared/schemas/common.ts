import { z } from "zod";

export const API_GROUP = "llm.switchboard.dev";
export const API_VERSION = "v1alpha1";
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** Kubernetes-style duration such as `500ms`, `30s`, `5m` or `1h`. */
export const durationSchema = z
  .string()
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

export const conditionSchema = z.object({
  type: z.string().describe("Condition type, e.g. Ready."),
  status: z.enum(["True", "False", "Unknown"]),
  observedGeneration: z.number().int().optional(),
  lastTransitionTime: z.string().describe("When the condition last changed status (RFC 3339)."),
  reason: z.string().describe("CamelCase machine-readable reason."),
  message: z.string().describe("Human-readable explanation."),
});

export type Condition = z.infer<typeof conditionSchema>;

export const secretKeyRefSchema = z
  .object({
    name: resourceNameSchema.describe("Name of a Secret in the resource's namespace."),
    key: z.string().min(1).describe("Key within the Secret's data."),
  })
  .describe("A key of a Secret in the same namespace.");
