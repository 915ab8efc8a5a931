import { z } from "zod";
import { PROVIDER_TYPES, RESIDENCY_BOUNDARIES } from "./llm-provider.js";
import { FALLBACK_CLASSES, ROUTE_STRATEGIES } from "./llm-route.js";

/**
 * The compiled, fully-defaulted configuration a gateway runs. It holds resolved credentials,
 * so it is only ever stored in a Secret and never logged.
 */

export const resolvedCredentialsSchema = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("apiKey"), apiKey: z.string() }),
  z.object({
    mode: z.literal("workloadIdentity"),
    roleArn: z.string().optional(),
    clientId: z.string().optional(),
    tenantId: z.string().optional(),
    serviceAccount: z.string().optional(),
  }),
  z.object({ mode: z.literal("none") }),
  /** The Secret or key was missing: the provider stays in config but every call fails clearly. */
  z.object({ mode: z.literal("unresolved"), reason: z.string(), message: z.string() }),
]);
export type ResolvedCredentials = z.infer<typeof resolvedCredentialsSchema>;

export const compiledModelSchema = z.object({
  name: z.string(),
  upstreamModel: z.string(),
  kind: z.enum(["chat", "embedding"]),
  contextWindow: z.number().optional(),
  maxOutputTokens: z.number().optional(),
  dimensions: z.number().optional(),
  supportsTools: z.boolean(),
  /** The upstream serves POST /completions for this model; absent: prompts go as chat messages. */
  textCompletions: z.boolean().optional(),
  pricing: z.object({ inputPer1M: z.number(), outputPer1M: z.number() }).optional(),
});
export type CompiledModel = z.infer<typeof compiledModelSchema>;

export const compiledProviderSchema = z.object({
  /** `namespace/name`, unique across the config. */
  id: z.string(),
  name: z.string(),
  namespace: z.string(),
  generation: z.number().optional(),
  type: z.enum(PROVIDER_TYPES),
  endpoint: z.string().optional(),
  region: z.string().optional(),
  project: z.string().optional(),
  apiVersion: z.string().optional(),
  credentials: resolvedCredentialsSchema,
  models: z.array(compiledModelSchema),
  dataResidency: z
    .object({ boundary: z.enum(RESIDENCY_BOUNDARIES), region: z.string().optional() })
    .optional(),
  limits: z.object({
    requestsPerMinute: z.number().optional(),
    tokensPerMinute: z.number().optional(),
    maxConcurrency: z.number().optional(),
  }),
  timeouts: z.object({
    connectMs: z.number(),
    firstTokenMs: z.number(),
    idleMs: z.number(),
    totalMs: z.number(),
  }),
  connectionPool: z.object({
    maxConnections: z.number(),
    maxQueued: z.number(),
    queueTimeoutMs: z.number(),
  }),
  healthCheck: z.object({
    intervalMs: z.number(),
    timeoutMs: z.number(),
    probe: z.enum(["models", "completion", "none"]),
  }),
  circuitBreaker: z.object({
    failureThreshold: z.number(),
    windowSeconds: z.number(),
    openSeconds: z.number(),
    halfOpenRequests: z.number(),
  }),
});
export type CompiledProvider = z.infer<typeof compiledProviderSchema>;

const compiledRateLimitsSchema = z.object({
  requestsPerMinute: z.number().optional(),
  tokensPerMinute: z.number().optional(),
});
const compiledBudgetSchema = z.object({ usd: z.number(), period: z.enum(["hour", "day", "month"]) });

export const compiledConsumerSchema = z.object({
  name: z.string(),
  /** sha256 hex of the API key; the key itself is never kept. */
  apiKeySha256: z.string().optional(),
  serviceAccount: z.object({ name: z.string(), namespace: z.string() }).optional(),
  limits: compiledRateLimitsSchema,
  budget: compiledBudgetSchema.optional(),
  /** Limits shared with every consumer of the namespace that names the same team, on every route. */
  team: z
    .object({
      /** namespace/name */
      id: z.string(),
      limits: compiledRateLimitsSchema,
      budget: compiledBudgetSchema.optional(),
    })
    .optional(),
});
export type CompiledConsumer = z.infer<typeof compiledConsumerSchema>;

export const compiledRouteSchema = z.object({
  id: z.string(),
  name: z.string(),
  namespace: z.string(),
  generation: z.number().optional(),
  model: z.string(),
  aliases: z.array(z.string()),
  kind: z.enum(["chat", "embedding"]),
  strategy: z.enum(ROUTE_STRATEGIES),
  targets: z.array(
    z.object({
      providerId: z.string(),
      model: z.string(),
      weight: z.number(),
      priority: z.number(),
    }),
  ),
  fallback: z.object({ on: z.array(z.enum(FALLBACK_CLASSES)), maxAttempts: z.number() }),
  retries: z.object({
    attempts: z.number(),
    backoffMs: z.number(),
    maxBackoffMs: z.number(),
    respectRetryAfter: z.boolean(),
  }),
  policy: z.object({
    dataResidency: z
      .object({
        allowedBoundaries: z.array(z.enum(RESIDENCY_BOUNDARIES)).optional(),
        allowedRegions: z.array(z.string()).optional(),
      })
      .optional(),
  }),
  cache: z.object({ ttlMs: z.number() }).optional(),
  consumers: z.array(compiledConsumerSchema),
});
export type CompiledRoute = z.infer<typeof compiledRouteSchema>;

export const gatewayConfigSchema = z.object({
  /** Content hash of everything below; identical inputs give identical versions. */
  version: z.string(),
  providers: z.array(compiledProviderSchema),
  routes: z.array(compiledRouteSchema),
});
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
