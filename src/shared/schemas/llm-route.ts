import { z } from "zod";
import { conditionSchema, durationSchema, GROUP_VERSION, objectMetaSchema, resourceNameSchema, secretKeyRefSchema } from "./common.js";
import { RESIDENCY_BOUNDARIES } from "./llm-provider.js";

export const ROUTE_STRATEGIES = ["priority", "weighted", "round-robin", "least-latency", "lowest-cost"] as const;
export const FALLBACK_CLASSES = ["rate_limit", "upstream_unavailable", "timeout", "context_length_exceeded"] as const;

export const routeTargetSchema = z.object({
  provider: resourceNameSchema.describe("Name of an LLMProvider in the route's namespace."),
  model: z.string().min(1).describe("A model name listed in that provider's spec.models."),
  weight: z.number().int().min(0).optional().describe("Relative share for the weighted strategy."),
  priority: z.number().int().min(0).optional().describe("Lower is tried first for the priority strategy."),
});

export const consumerSchema = z.object({
  name: z.string().min(1).describe("Consumer name, used in logs and metrics."),
  apiKeySecretRef: secretKeyRefSchema.optional().describe("Secret key holding the consumer's API key (or its sha256)."),
  serviceAccount: z
    .object({ name: z.string().min(1), namespace: z.string().optional() })
    .optional()
    .describe("Kubernetes ServiceAccount admitted through TokenReview."),
  limits: z
    .object({
      requestsPerMinute: z.number().int().positive().optional(),
      tokensPerMinute: z.number().int().positive().optional(),
    })
    .optional(),
  budget: z
    .object({ usd: z.number().positive(), period: z.enum(["hour", "day", "month"]) })
    .optional()
    .describe("Spend budget per period."),
});

export const llmRouteSpecSchema = z.object({
  model: z.string().min(1).max(200).describe("Model name clients send."),
  aliases: z.array(z.string().min(1)).max(32).optional().describe("Other names that resolve to this route."),
  strategy: z.enum(ROUTE_STRATEGIES).optional().describe("How targets are ordered; priority by default."),
  targets: z.array(routeTargetSchema).min(1).max(64).describe("Where requests may go."),
  fallback: z
    .object({
      on: z.array(z.enum(FALLBACK_CLASSES)).max(4).optional(),
      maxAttempts: z.number().int().positive().max(16).optional(),
    })
    .optional()
    .describe("Which errors move a request to the next target."),
  retries: z
    .object({
      attempts: z.number().int().min(0).max(10).optional(),
      backoff: durationSchema.optional().describe("Base delay of exponential backoff with full jitter."),
      maxBackoff: durationSchema.optional(),
      respectRetryAfter: z.boolean().optional(),
    })
    .optional(),
  policy: z
    .object({
      dataResidency: z
        .object({
          allowedBoundaries: z.array(z.enum(RESIDENCY_BOUNDARIES)).max(3).optional(),
          allowedRegions: z.array(z.string().min(1)).max(64).optional(),
        })
        .optional(),
    })
    .optional()
    .describe("Filters every target, fallbacks included."),
  cache: z.object({ ttl: durationSchema }).optional().describe("Exact-match response cache."),
  consumers: z.array(consumerSchema).max(256).optional().describe("Who may call this route; open when empty."),
});

export const llmRouteStatusSchema = z.object({
  observedGeneration: z.number().int().optional(),
  conditions: z.array(conditionSchema).max(16).optional(),
  targets: z
    .array(
      z.object({
        provider: z.string(),
        model: z.string(),
        health: z.string().optional(),
        circuit: z.string().optional(),
        allowed: z.boolean().optional(),
      }),
    )
    .max(64)
    .optional(),
});

export const llmRouteSchema = z.object({
  apiVersion: z.literal(GROUP_VERSION),
  kind: z.literal("LLMRoute"),
  metadata: objectMetaSchema,
  spec: llmRouteSpecSchema,
  status: llmRouteStatusSchema.optional(),
});

export type LLMRoute = z.infer<typeof llmRouteSchema>;
export type LLMRouteSpec = z.infer<typeof llmRouteSpecSchema>;
