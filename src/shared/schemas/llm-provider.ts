import { z } from "zod";
import {
  customResourceSchema,
  conditionsSchema,
  observedGenerationSchema,
  durationSchema,
  secretKeyRefSchema,
  timestampSchema,
} from "./common.js";
import { withCelRules } from "./kubernetes-extensions.js";

export const PROVIDER_TYPES = [
  "openai",
  "azure-openai",
  "anthropic",
  "bedrock",
  "vertex",
  "openai-compatible",
] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/**
 * A request holds the most it may use against tokens per minute before it is sent; without an
 * output bound that is unknown, and bursts could pass the limit.
 */
export const TOKENS_PER_MINUTE_NEEDS_OUTPUT_BOUND =
  "spec.limits.tokensPerMinute needs maxOutputTokens or contextWindow on every chat model in spec.models, " +
  "so the gateway knows the most a request may use before sending it";

export const RESIDENCY_BOUNDARIES = ["provider-cloud", "customer-cloud", "on-premises"] as const;

/** Bounds the CEL cost estimate of the model-name uniqueness rule (n² name comparisons); 512 models would exceed it. */
const MAX_MODELS = 256;
const MAX_MODEL_NAME_LENGTH = 200;

const OUTPUT_WITHIN_WINDOW = "maxOutputTokens must not exceed contextWindow";

/** Provider types whose API has OpenAI's text completions endpoint (`/completions`). */
export const TEXT_COMPLETION_TYPES = ["openai", "openai-compatible"] as const;
export const TEXT_COMPLETIONS_NEED_TYPE =
  "textCompletions is only for openai and openai-compatible providers; other types answer " +
  "POST /v1/completions by sending the prompt as a chat message";
const HTTP_ENDPOINT = "spec.endpoint must be an http:// or https:// URL";

export const providerModelSchema = withCelRules(
  z
    .object({
      name: z
        .string()
        .min(1)
        .max(MAX_MODEL_NAME_LENGTH)
        .describe("The model name routes refer to; unique within the provider."),
      providerModel: z
        .string()
        .min(1)
        .max(512)
        .optional()
        .describe("Upstream model id, Azure deployment name or Bedrock model id; defaults to name."),
      kind: z.enum(["chat", "embedding"]).optional().describe("chat (default) or embedding."),
      contextWindow: z.number().int().positive().optional().describe("Maximum prompt plus output tokens."),
      maxOutputTokens: z
        .number()
        .int()
        .positive()
        .optional()
        .describe("Maximum tokens the model may generate."),
      dimensions: z
        .number()
        .int()
        .positive()
        .optional()
        .describe("Embedding vector length (embedding models)."),
      supportsTools: z
        .boolean()
        .optional()
        .describe("Whether the model accepts tools; defaults to true for chat."),
      textCompletions: z
        .boolean()
        .optional()
        .describe(
          "Whether the upstream serves this model through text completions (POST /v1/completions is " +
            "forwarded as is; openai and openai-compatible only). Otherwise the prompt goes as a chat message.",
        ),
      pricing: z
        .object({
          inputPer1M: z.number().nonnegative().describe("USD per million input tokens."),
          outputPer1M: z
            .number()
            .nonnegative()
            .optional()
            .describe("USD per million output tokens; 0 when unset."),
        })
        .optional()
        .describe("Prices used for cost accounting and lowest-cost routing."),
    })
    .refine(
      (m) =>
        m.maxOutputTokens === undefined ||
        m.contextWindow === undefined ||
        m.maxOutputTokens <= m.contextWindow,
      { message: OUTPUT_WITHIN_WINDOW, path: ["maxOutputTokens"] },
    ),
  [
    {
      rule: "!has(self.maxOutputTokens) || !has(self.contextWindow) || self.maxOutputTokens <= self.contextWindow",
      message: OUTPUT_WITHIN_WINDOW,
      fieldPath: ".maxOutputTokens",
    },
  ],
).describe("A model this provider serves.");

export const credentialsSchema = withCelRules(
  z.object({
    secretRef: secretKeyRefSchema
      .optional()
      .describe("API key stored in a Secret in the provider's namespace."),
    workloadIdentity: z
      .object({
        roleArn: z.string().max(2048).optional().describe("AWS: role to assume with the web identity token."),
        clientId: z
          .string()
          .max(128)
          .optional()
          .describe("Azure: application (client) id of the workload identity."),
        tenantId: z.string().max(128).optional().describe("Azure: Entra tenant id."),
        serviceAccount: z.string().max(320).optional().describe("GCP: service account email to impersonate."),
      })
      .optional()
      .describe(
        "Keyless credentials from the cloud SDK's default chain: AWS IRSA or EKS Pod Identity, " +
          "Azure Workload Identity, GCP Application Default Credentials or Workload Identity.",
      ),
    none: z
      .object({})
      .optional()
      .describe("No credentials, for local servers such as vLLM or Ollama. Write `none: {}`."),
  }),
  [
    {
      rule: "(has(self.secretRef) ? 1 : 0) + (has(self.workloadIdentity) ? 1 : 0) + (has(self.none) ? 1 : 0) == 1",
      message: "spec.credentials must set exactly one of secretRef, workloadIdentity or none",
    },
  ],
).describe(
  "How the gateway authenticates to the upstream: exactly one of secretRef, workloadIdentity or none.",
);

const modelsSchema = withCelRules(z.array(providerModelSchema).min(1).max(MAX_MODELS), [
  {
    rule: "self.all(m, self.exists_one(n, n.name == m.name))",
    // Static: a messageExpression naming the duplicate (a filter) exceeds the API server's cost budget.
    message: "spec.models must not list the same model name twice",
  },
]).describe("Models this provider serves.");

export const llmProviderSpecSchema = withCelRules(
  z.object({
    type: z.enum(PROVIDER_TYPES).describe("Which upstream API this provider speaks."),
    endpoint: withCelRules(
      z
        .string()
        .url()
        .max(2048)
        .refine((url) => /^https?:\/\//.test(url), HTTP_ENDPOINT),
      [{ rule: "self.matches('^https?://')", message: HTTP_ENDPOINT }],
    )
      .optional()
      .describe(
        "Base URL as the provider's SDK takes it (openai and openai-compatible include the API path, " +
          "e.g. http://vllm:8000/v1; a trailing /v1 for anthropic and vertex, or /openai for azure-openai, " +
          "is dropped). Required for openai-compatible and azure-openai; overrides the default otherwise.",
      ),
    region: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe("Cloud region; required for bedrock and vertex (e.g. us-east-1, europe-west4)."),
    project: z.string().min(1).max(128).optional().describe("Google Cloud project id; required for vertex."),
    apiVersion: z.string().min(1).max(64).optional().describe("Azure OpenAI api-version query parameter."),
    credentials: credentialsSchema,
    models: modelsSchema,
    dataResidency: z
      .object({
        boundary: z.enum(RESIDENCY_BOUNDARIES).describe("Who operates the infrastructure the data reaches."),
        region: z.string().max(64).optional().describe("Where the data is processed, e.g. eu-west-1."),
      })
      .optional()
      .describe("Facts about where data goes; route policies test them."),
    limits: z
      .object({
        requestsPerMinute: z.number().int().positive().optional().describe("Requests per minute, per model."),
        tokensPerMinute: z.number().int().positive().optional().describe("Tokens per minute, per model."),
        maxConcurrency: z
          .number()
          .int()
          .positive()
          .optional()
          .describe("Requests in flight at once, per model."),
      })
      .optional()
      .describe("Per-model limits the gateway enforces before calling upstream."),
    timeouts: z
      .object({
        connect: durationSchema.optional().describe("Deadline to open the connection; 10s by default."),
        firstToken: durationSchema
          .optional()
          .describe("Deadline for the response headers or first stream chunk; 60s by default."),
        idle: durationSchema.optional().describe("Longest silence inside a stream; 60s by default."),
        total: durationSchema.optional().describe("Deadline for the whole attempt; 600s by default."),
      })
      .optional()
      .describe("Deadlines for one upstream attempt."),
    connectionPool: z
      .object({
        maxConnections: z
          .number()
          .int()
          .min(1)
          .max(65_535)
          .optional()
          .describe(
            "Connections the gateway opens to this provider at most; each stream holds one for its whole " +
              "length. 1024 by default.",
          ),
        maxQueued: z
          .number()
          .int()
          .min(0)
          .max(65_535)
          .optional()
          .describe(
            "Requests that may wait for a free connection when all are in use; past that they are " +
              "refused at once with 503 (529 overloaded_error in the Anthropic format). 256 by default.",
          ),
        queueTimeout: durationSchema
          .optional()
          .describe(
            "Longest wait for a free connection before the request is refused with 503; the wait also " +
              "counts against timeouts.firstToken. 5s by default.",
          ),
      })
      .optional()
      .describe("The gateway's connection pool to this provider, and the bounded queue in front of it."),
    healthCheck: z
      .object({
        interval: durationSchema.optional().describe("Time between probes; 30s by default."),
        timeout: durationSchema.optional().describe("Deadline of one probe; 5s by default."),
        probe: z
          .enum(["models", "completion", "none"])
          .optional()
          .describe(
            "models lists models (default), completion sends a one-token request, none disables probes.",
          ),
      })
      .optional()
      .describe("Active health probing."),
    circuitBreaker: z
      .object({
        failureThreshold: z
          .number()
          .int()
          .positive()
          .optional()
          .describe("Failures within the window that open the circuit; 5 by default."),
        windowSeconds: z
          .number()
          .int()
          .positive()
          .optional()
          .describe("Failure counting window; 60 by default."),
        openSeconds: z
          .number()
          .int()
          .positive()
          .optional()
          .describe("How long the circuit stays open before trial requests; 30 by default."),
        halfOpenRequests: z
          .number()
          .int()
          .positive()
          .optional()
          .describe("Trial requests allowed while half-open; 1 by default."),
      })
      .optional()
      .describe("Circuit breaker per provider model."),
  }),
  [
    {
      rule: "!(self.type in ['openai-compatible', 'azure-openai']) || has(self.endpoint)",
      message: "spec.endpoint is required when spec.type is openai-compatible or azure-openai",
      messageExpression: "'spec.endpoint is required when spec.type is ' + self.type",
      fieldPath: ".endpoint",
      reason: "FieldValueRequired",
    },
    {
      rule: "self.type != 'vertex' || (has(self.project) && has(self.region))",
      message: "spec.project and spec.region are required when spec.type is vertex",
    },
    {
      rule:
        "!has(self.limits) || !has(self.limits.tokensPerMinute) || self.models.all(m, " +
        "(has(m.kind) && m.kind == 'embedding') || has(m.maxOutputTokens) || has(m.contextWindow))",
      message: TOKENS_PER_MINUTE_NEEDS_OUTPUT_BOUND,
      fieldPath: ".limits.tokensPerMinute",
    },
    {
      rule:
        "self.type in ['openai', 'openai-compatible'] || " +
        "self.models.all(m, !has(m.textCompletions) || !m.textCompletions)",
      message: TEXT_COMPLETIONS_NEED_TYPE,
      fieldPath: ".models",
    },
    {
      rule: "self.type != 'bedrock' || has(self.region)",
      message: "spec.region is required when spec.type is bedrock",
      fieldPath: ".region",
      reason: "FieldValueRequired",
    },
  ],
).describe("Desired state: the upstream API, its credentials and the models it serves.");

export const llmProviderStatusSchema = z
  .object({
    observedGeneration: observedGenerationSchema,
    conditions: conditionsSchema.optional(),
    health: z
      .enum(["healthy", "degraded", "unhealthy", "unknown"])
      .optional()
      .describe("Merged health across gateway replicas."),
    circuit: z
      .enum(["closed", "open", "half-open"])
      .optional()
      .describe("Worst circuit state across the provider's models and gateway replicas."),
    latency: z
      .object({
        p50Ms: z.number().min(0).optional().describe("Median upstream latency in milliseconds."),
        p95Ms: z.number().min(0).optional().describe("95th percentile upstream latency in milliseconds."),
      })
      .optional()
      .describe("Upstream latency observed by the gateways."),
    consecutiveFailures: z.number().int().min(0).optional().describe("Failed requests or probes in a row."),
    lastProbeTime: timestampSchema.optional().describe("When a health probe last ran (RFC 3339)."),
    configVersion: z
      .string()
      .max(64)
      .optional()
      .describe("Version of the gateway config snapshot that includes this generation."),
  })
  .describe("Observed state, written by the operator.");

export const llmProviderSchema = customResourceSchema(
  "LLMProvider",
  llmProviderSpecSchema,
  llmProviderStatusSchema,
  "LLMProvider is one upstream LLM account or endpoint (OpenAI, Azure OpenAI, Anthropic, Bedrock, " +
    "Vertex AI or an OpenAI-compatible server) and the models it serves.",
);

export type LLMProvider = z.infer<typeof llmProviderSchema>;
export type LLMProviderSpec = z.infer<typeof llmProviderSpecSchema>;
