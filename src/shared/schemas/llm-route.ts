import { z } from "zod";
import {
  customResourceSchema,
  conditionsSchema,
  observedGenerationSchema,
  durationSchema,
  resourceNameSchema,
  secretKeyRefSchema,
} from "./common.js";
import { withCelRules } from "./kubernetes-extensions.js";
import { RESIDENCY_BOUNDARIES } from "./llm-provider.js";

export const ROUTE_STRATEGIES = [
  "priority",
  "weighted",
  "round-robin",
  "least-latency",
  "lowest-cost",
] as const;
export const FALLBACK_CLASSES = [
  "rate_limit",
  "upstream_unavailable",
  "timeout",
  "context_length_exceeded",
] as const;

const fallbackClassesSchema = z.array(z.enum(FALLBACK_CLASSES)).max(4).optional();
/** kubectl and Helm parse YAML 1.1, where an unquoted `on:` key is the boolean true. */
const UNQUOTED_ON =
  'kubectl and Helm read an unquoted "on:" key as true (YAML 1.1); write onErrors: [...] instead';
const CONSUMER_IDENTITY =
  "a consumer needs apiKeySecretRef or serviceAccount; without either it can never authenticate";
const WEIGHT_WITHOUT_WEIGHTED =
  "spec.targets[].weight is used only by the weighted strategy; set spec.strategy: weighted or remove the weights";
const ON_AND_ON_ERRORS = "set onErrors only; on is its deprecated spelling";

export const routeTargetSchema = z
  .object({
    provider: resourceNameSchema.describe("Name of an LLMProvider in the route's namespace."),
    model: z.string().min(1).max(200).describe("A model name listed in that provider's spec.models."),
    weight: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Relative share of traffic for the weighted strategy; 1 by default."),
    priority: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Lower is tried first for the priority strategy; list order by default."),
  })
  .describe("A provider model requests may go to.");

const rateLimitsSchema = z.object({
  requestsPerMinute: z.number().int().positive().optional().describe("Requests per minute."),
  tokensPerMinute: z.number().int().positive().optional().describe("Tokens per minute."),
});

const budgetSchema = z
  .object({
    usd: z.number().positive().describe("Spend allowed per period, in USD."),
    period: z.enum(["hour", "day", "month"]).describe("hour, day or month (UTC calendar periods)."),
  })
  .describe("Spend budget per period.");

export const teamSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(128)
      .describe("Team name; every consumer in the namespace that names it shares its budget and limits."),
    limits: rateLimitsSchema
      .optional()
      .describe("Rate limits for the whole team, across every route in the namespace that names it."),
    budget: budgetSchema
      .optional()
      .describe("Spend budget for the whole team, across every route in the namespace that names it."),
  })
  .describe(
    "A team this consumer belongs to. Its budget and limits count once across every route in the " +
      "namespace whose consumers name the team, on top of the consumer's own; write them on one of " +
      "those routes (or identically on several) and name the team alone on the others.",
  );

export const consumerSchema = withCelRules(
  z
    .object({
      name: z.string().min(1).max(128).describe("Consumer name, used in logs and metrics."),
      apiKeySecretRef: secretKeyRefSchema
        .optional()
        .describe("Secret key holding the consumer's API key, or its sha256 as sha256:<hex>."),
      serviceAccount: z
        .object({
          name: z.string().min(1).max(253).describe("ServiceAccount name."),
          namespace: z
            .string()
            .max(63)
            .optional()
            .describe("ServiceAccount namespace; the route's by default."),
        })
        .optional()
        .describe("Kubernetes ServiceAccount admitted through TokenReview."),
      limits: rateLimitsSchema.optional().describe("Rate limits for this consumer on this route."),
      budget: budgetSchema.optional().describe("Spend budget per period for this consumer on this route."),
      team: teamSchema.optional(),
    })
    .refine((c) => c.apiKeySecretRef !== undefined || c.serviceAccount !== undefined, CONSUMER_IDENTITY),
  [{ rule: "has(self.apiKeySecretRef) || has(self.serviceAccount)", message: CONSUMER_IDENTITY }],
).describe("A client allowed to call the route.");

export const llmRouteSpecSchema = withCelRules(
  z
    .object({
      model: z.string().min(1).max(200).describe("Model name clients send."),
      aliases: z
        .array(z.string().min(1).max(200))
        .max(32)
        .optional()
        .describe("Other model names that resolve to this route."),
      strategy: z.enum(ROUTE_STRATEGIES).optional().describe("How targets are ordered; priority by default."),
      targets: z.array(routeTargetSchema).min(1).max(64).describe("Where requests may go."),
      fallback: withCelRules(
        z
          .object({
            onErrors: fallbackClassesSchema.describe(
              "Error classes that move a request on; rate_limit, upstream_unavailable and timeout by default.",
            ),
            on: fallbackClassesSchema.describe(
              'Deprecated spelling of onErrors, kept working. YAML 1.1 readers (kubectl, Helm) take an unquoted on key for the boolean true, so it must be written "on".',
            ),
            true: z
              .array(z.string().max(64))
              .max(16)
              .optional()
              .describe(
                "Not a field: what kubectl and Helm make of an unquoted on key. Rejected, with a message saying to write onErrors.",
              ),
            maxAttempts: z
              .number()
              .int()
              .positive()
              .max(16)
              .optional()
              .describe("Targets tried at most per request; all of them by default."),
          })
          .superRefine((fallback, ctx) => {
            if (fallback.true !== undefined)
              ctx.addIssue({ code: "custom", path: ["true"], message: UNQUOTED_ON });
            if (fallback.on !== undefined && fallback.onErrors !== undefined)
              ctx.addIssue({ code: "custom", path: ["on"], message: ON_AND_ON_ERRORS });
          }),
        [
          { rule: "!has(self.__true__)", message: UNQUOTED_ON, fieldPath: ".true" },
          { rule: "!(has(self.on) && has(self.onErrors))", message: ON_AND_ON_ERRORS, fieldPath: ".on" },
        ],
      )
        .optional()
        .describe("Which errors move a request to the next target."),
      retries: z
        .object({
          attempts: z
            .number()
            .int()
            .min(0)
            .max(10)
            .optional()
            .describe("Retries on the same target; 1 by default."),
          backoff: durationSchema
            .optional()
            .describe("Base delay of exponential backoff with full jitter; 200ms by default."),
          maxBackoff: durationSchema.optional().describe("Longest backoff delay; 5s by default."),
          respectRetryAfter: z
            .boolean()
            .optional()
            .describe("Wait as long as the upstream's Retry-After asks; true by default."),
        })
        .optional()
        .describe("Retries on the same target before falling back."),
      policy: z
        .object({
          dataResidency: z
            .object({
              allowedBoundaries: z
                .array(z.enum(RESIDENCY_BOUNDARIES))
                .max(3)
                .optional()
                .describe("Provider dataResidency.boundary values a target may have."),
              allowedRegions: z
                .array(z.string().min(1).max(64))
                .max(64)
                .optional()
                .describe("Provider dataResidency.region values a target may have."),
            })
            .optional()
            .describe("Where request data may go; a target that does not match is never called."),
        })
        .optional()
        .describe("Filters every target, fallbacks included."),
      cache: z
        .object({ ttl: durationSchema.describe("How long a cached response is served.") })
        .optional()
        .describe("Exact-match response cache."),
      consumers: z
        .array(consumerSchema)
        .max(256)
        .optional()
        .describe("Who may call this route; open to every authenticated client when empty."),
    })
    .superRefine((spec, ctx) => {
      if (spec.strategy !== "weighted" && spec.targets.some((t) => t.weight !== undefined))
        ctx.addIssue({ code: "custom", path: ["targets"], message: WEIGHT_WITHOUT_WEIGHTED });
    }),
  [
    {
      rule: "(has(self.strategy) && self.strategy == 'weighted') || self.targets.all(t, !has(t.weight))",
      message: WEIGHT_WITHOUT_WEIGHTED,
      fieldPath: ".targets",
    },
  ],
).describe("Desired state: the model name clients call and the targets it may reach.");

export const llmRouteStatusSchema = z
  .object({
    observedGeneration: observedGenerationSchema,
    conditions: conditionsSchema.optional(),
    strategy: z
      .enum(ROUTE_STRATEGIES)
      .optional()
      .describe("The strategy in effect, spec.strategy or its default; shown by kubectl get."),
    targetCount: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Number of targets the route resolved; shown by kubectl get."),
    targets: z
      .array(
        z
          .object({
            provider: z.string().max(253).describe("LLMProvider name."),
            model: z.string().max(200).describe("Model name within the provider."),
            health: z.string().max(32).optional().describe("The provider's health as the gateways see it."),
            circuit: z.string().max(32).optional().describe("Circuit state of this provider model."),
            allowed: z.boolean().optional().describe("Whether the route's policy admits this target."),
          })
          .describe("One resolved target."),
      )
      .max(64)
      .optional()
      .describe("Resolved targets with their health."),
  })
  .describe("Observed state, written by the operator.");

export const llmRouteSchema = customResourceSchema(
  "LLMRoute",
  llmRouteSpecSchema,
  llmRouteStatusSchema,
  "LLMRoute is a model name clients call through the gateway, the provider models it may reach, " +
    "and the strategy, fallback and policy that choose among them.",
);

export type LLMRoute = z.infer<typeof llmRouteSchema>;
export type LLMRouteSpec = z.infer<typeof llmRouteSpecSchema>;
