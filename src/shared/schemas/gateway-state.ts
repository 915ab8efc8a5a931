import { z } from "zod";

/**
 * What each gateway replica reports at `GET /admin/state`, and what the operator merges into
 * LLMProvider/LLMRoute status. Shared so both sides agree on one shape.
 */

export const HEALTH_STATES = ["healthy", "degraded", "unhealthy", "unknown"] as const;
export const CIRCUIT_STATES = ["closed", "open", "half-open"] as const;

export const modelStateSchema = z.object({
  /** Model name within the provider (spec.models[].name). */
  model: z.string(),
  health: z.enum(HEALTH_STATES),
  circuit: z.enum(CIRCUIT_STATES),
  /** When the circuit entered its current state (RFC 3339). */
  circuitSince: z.string().optional(),
  consecutiveFailures: z.number().int().nonnegative(),
  latency: z.object({
    ewmaMs: z.number().optional(),
    p50Ms: z.number().optional(),
    p95Ms: z.number().optional(),
  }),
  lastProbeTime: z.string().optional(),
  /** Error class of the last failure, never upstream text that could carry secrets. */
  lastErrorClass: z.string().optional(),
  requests: z.number().int().nonnegative(),
  failures: z.number().int().nonnegative(),
});
export type ModelState = z.infer<typeof modelStateSchema>;

export const providerStateSchema = z.object({
  /** `namespace/name` of the LLMProvider. */
  providerId: z.string(),
  models: z.array(modelStateSchema),
});
export type ProviderState = z.infer<typeof providerStateSchema>;

/** One route consumer's use in its current budget period (a day when it has no budget). */
export const consumerUsageSchema = z.object({
  /** `namespace/name` of the LLMRoute. */
  routeId: z.string(),
  consumer: z.string(),
  period: z.enum(["hour", "day", "month"]),
  /** Start of the period (RFC 3339, UTC). */
  periodStart: z.string(),
  requests: z.number().nonnegative(),
  tokens: z.number().nonnegative(),
  usd: z.number().nonnegative(),
  /** The consumer's budget for the period, when it has one. */
  budgetUsd: z.number().optional(),
});
export type ConsumerUsage = z.infer<typeof consumerUsageSchema>;

export const gatewayStateSchema = z.object({
  /** Version of the config snapshot in force, or null before one is loaded. */
  configVersion: z.string().nullable(),
  generatedAt: z.string(),
  providers: z.array(providerStateSchema),
  /** redis: `consumers` are one count shared by every replica; memory: this replica's own. */
  stateBackend: z.enum(["memory", "redis"]).optional(),
  consumers: z.array(consumerUsageSchema).optional(),
});
export type GatewayState = z.infer<typeof gatewayStateSchema>;
