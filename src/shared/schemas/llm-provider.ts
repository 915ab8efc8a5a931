import { z } from "zod";
import { conditionSchema, durationSchema, GROUP_VERSION, objectMetaSchema, secretKeyRefSchema } from "./common.js";

export const PROVIDER_TYPES = [
  "openai",
  "azure-openai",
  "anthropic",
  "bedrock",
  "vertex",
  "openai-compatible",
] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export const RESIDENCY_BOUNDARIES = ["provider-cloud", "customer-cloud", "on-premises"] as const;

export const providerModelSchema = z.object({
  name: z.string().min(1).max(200).describe("The model name routes refer to."),
  providerModel: z
    .string()
    .min(1)
    .optional()
    .describe("Upstream model id, Azure deployment name or Bedrock model id; defaults to name."),
  kind: z.enum(["chat", "embedding"]).optional().describe("chat (default) or embedding."),
  contextWindow: z.number().int().positive().optional().describe("Maximum prompt plus output tokens."),
  maxOutputTokens: z.number().int().positive().optional().describe("Maximum tokens the model may generate."),
  dimensions: z.number().int().positive().optional().describe("Embedding vector length (embedding models)."),
  supportsTools: z.boolean().optional().describe("Whether the model accepts tools; defaults to true for chat."),
  pricing: z
    .object({
      inputPer1M: z.number().nonnegative().describe("USD per million input tokens."),
      outputPer1M: z.number().nonnegative().optional().describe("USD per million output tokens."),
    })
    .optional()
    .describe("Prices used for cost accounting and lowest-cost routing."),
});

export const credentialsSchema = z
  .object({
    secretRef: secretKeyRefSchema.optional().describe("API key stored in a Secret."),
    workloadIdentity: z
      .object({
        roleArn: z.string().optional().describe("AWS: role to assume with the web identity token."),
        clientId: z.string().optional().describe("Azure: application (client) id of the workload identity."),
        tenantId: z.string().optional().describe("Azure: Entra tenant id."),
        serviceAccount: z.string().optional().describe("GCP: service account to impersonate."),
      })
      .optional()
      .describe("Keyless credentials from the cloud SDK's default chain (IRSA, Pod Identity, Azure WI, GCP ADC)."),
    none: z.object({}).optional().describe("No credentials (local servers such as vLLM or Ollama)."),
  })
  .describe("Exactly one of secretRef, workloadIdentity or none.");

export const llmProviderSpecSchema = z.object({
  type: z.enum(PROVIDER_TYPES).describe("Which upstream API this provider speaks."),
  endpoint: z
    .string()
    .url()
    .optional()
    .describe("Base URL; required for openai-compatible and azure-openai, optional override otherwise."),
  region: z.string().optional().describe("Cloud region (bedrock, vertex, azure-openai)."),
  project: z.string().optional().describe("Google Cloud project (vertex)."),
  apiVersion: z.string().optional().describe("Azure OpenAI api-version query parameter."),
  credentials: credentialsSchema,
  models: z.array(providerModelSchema).min(1).max(256).describe("Models this provider serves."),
  dataResidency: z
    .object({
      boundary: z.enum(RESIDENCY_BOUNDARIES).describe("Who operates the infrastructure the data reaches."),
      region: z.string().optional().describe("Where the data is processed, e.g. eu-west-1."),
    })
    .optional()
    .describe("Facts about where data goes; route policies test them."),
  limits: z
    .object({
      requestsPerMinute: z.number().int().positive().optional(),
      tokensPerMinute: z.number().int().positive().optional(),
      maxConcurrency: z.number().int().positive().optional(),
    })
    .optional()
    .describe("Per-model limits the gateway enforces before calling upstream."),
  timeouts: z
    .object({
      connect: durationSchema.optional(),
      firstToken: durationSchema.optional(),
      idle: durationSchema.optional(),
      total: durationSchema.optional(),
    })
    .optional()
    .describe("Deadlines for one upstream attempt."),
  healthCheck: z
    .object({
      interval: durationSchema.optional(),
      timeout: durationSchema.optional(),
      probe: z.enum(["models", "completion", "none"]).optional(),
    })
    .optional()
    .describe("Active health probing."),
  circuitBreaker: z
    .object({
      failureThreshold: z.number().int().positive().optional(),
      windowSeconds: z.number().int().positive().optional(),
      openSeconds: z.number().int().positive().optional(),
      halfOpenRequests: z.number().int().positive().optional(),
    })
    .optional()
    .describe("Circuit breaker per provider model."),
});

export const llmProviderStatusSchema = z.object({
  observedGeneration: z.number().int().optional(),
  conditions: z.array(conditionSchema).max(16).optional(),
  health: z.enum(["healthy", "degraded", "unhealthy", "unknown"]).optional(),
  circuit: z.enum(["closed", "open", "half-open"]).optional(),
  latency: z.object({ p50Ms: z.number().optional(), p95Ms: z.number().optional() }).optional(),
  consecutiveFailures: z.number().int().optional(),
  lastProbeTime: z.string().optional(),
  configVersion: z.string().optional(),
});

export const llmProviderSchema = z.object({
  apiVersion: z.literal(GROUP_VERSION),
  kind: z.literal("LLMProvider"),
  metadata: objectMetaSchema,
  spec: llmProviderSpecSchema,
  status: llmProviderStatusSchema.optional(),
});

export type LLMProvider = z.infer<typeof llmProviderSchema>;
export type LLMProviderSpec = z.infer<typeof llmProviderSpecSchema>;
