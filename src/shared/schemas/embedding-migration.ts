import { z } from "zod";
import {
  customResourceSchema,
  conditionsSchema,
  resourceNameSchema,
  secretKeyRefSchema,
  timestampSchema,
} from "./common.js";
import { withCelRules } from "./kubernetes-extensions.js";

const postgresIdentifierSchema = z.string().min(1).max(63);

const ROUTE_OR_PROVIDER = "set exactly one of route or provider";
const MODEL_WITH_PROVIDER = "model is required with provider";

/** The same rules twice: CEL for the API server at apply time, refinements for manifests read without one. */
const embeddingEndpointSchema = withCelRules(
  z
    .object({
      route: z.string().min(1).max(200).optional().describe("An LLMRoute model name to embed through."),
      provider: resourceNameSchema
        .optional()
        .describe("An LLMProvider name in the same namespace (with model)."),
      model: z.string().min(1).max(200).optional().describe("Model name within the provider."),
      dimensions: z.number().int().positive().describe("Vector length this side produces."),
    })
    .refine((side) => (side.route === undefined) !== (side.provider === undefined), ROUTE_OR_PROVIDER)
    .refine((side) => side.provider === undefined || side.model !== undefined, MODEL_WITH_PROVIDER),
  [
    { rule: "has(self.route) != has(self.provider)", message: ROUTE_OR_PROVIDER },
    { rule: "!has(self.provider) || has(self.model)", message: MODEL_WITH_PROVIDER },
  ],
);

export const embeddingMigrationSpecSchema = z
  .object({
    source: embeddingEndpointSchema.describe("The embedding model the stored vectors came from."),
    target: embeddingEndpointSchema.describe("The embedding model to re-embed with."),
    store: z
      .object({
        postgres: z
          .object({
            connectionSecretRef: secretKeyRefSchema.describe(
              "Secret key holding a postgres:// connection URL.",
            ),
            table: z
              .string()
              .min(1)
              .max(128)
              .describe("Table holding the rows, optionally schema-qualified."),
            idColumn: postgresIdentifierSchema.describe("Primary key column, used as the resume checkpoint."),
            textColumn: postgresIdentifierSchema.describe("Column with the text to embed."),
            targetColumn: postgresIdentifierSchema.describe("pgvector vector(n) or real[] column to fill."),
          })
          .describe("A PostgreSQL table, with pgvector or real[] columns."),
      })
      .describe("Where the rows to re-embed live."),
    batchSize: z.number().int().positive().max(2048).optional().describe("Rows embedded per request."),
    requestsPerMinute: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Embedding requests per minute, at most."),
    cutover: z
      .enum(["automatic", "manual"])
      .optional()
      .describe("automatic switches readers to the new column when done; manual leaves it to you."),
    paused: z.boolean().optional().describe("Stops the migration at the next checkpoint while true."),
  })
  .describe("Desired state: what to re-embed, from which model to which, and how fast.");

export const embeddingMigrationStatusSchema = z
  .object({
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("The metadata.generation the operator last acted on."),
    phase: z
      .enum(["Pending", "Running", "Paused", "Succeeded", "Failed"])
      .optional()
      .describe("Pending, Running, Paused, Succeeded or Failed."),
    progress: z
      .object({
        total: z.number().int().min(0).describe("Rows to re-embed."),
        done: z.number().int().min(0).describe("Rows re-embedded."),
        failed: z.number().int().min(0).describe("Rows that failed; recorded, never dropped."),
        percent: z.string().max(8).optional().describe("done out of total, e.g. 42%; shown by kubectl get."),
      })
      .optional()
      .describe("Row counts."),
    checkpoint: z.string().max(1024).optional().describe("Last id processed; the Job resumes after it."),
    startedAt: timestampSchema.optional().describe("When the migration started (RFC 3339)."),
    completedAt: timestampSchema.optional().describe("When it finished (RFC 3339)."),
    eta: z.string().max(32).optional().describe("Estimated time left, e.g. 12m; shown by kubectl get."),
    conditions: conditionsSchema.optional(),
  })
  .describe("Observed state, written by the operator.");

export const embeddingMigrationSchema = customResourceSchema(
  "EmbeddingMigration",
  embeddingMigrationSpecSchema,
  embeddingMigrationStatusSchema,
  "EmbeddingMigration re-embeds a knowledge base with a new embedding model (vectors from different " +
    "models are not comparable), as a resumable Job owned by the resource.",
);

export type EmbeddingMigration = z.infer<typeof embeddingMigrationSchema>;
