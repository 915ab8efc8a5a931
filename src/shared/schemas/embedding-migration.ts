import { z } from "zod";
import { conditionSchema, GROUP_VERSION, objectMetaSchema, resourceNameSchema, secretKeyRefSchema } from "./common.js";

const embeddingEndpointSchema = z.object({
  route: z.string().optional().describe("An LLMRoute model name to embed through."),
  provider: resourceNameSchema.optional().describe("An LLMProvider name (with model)."),
  model: z.string().optional().describe("Model name within the provider."),
  dimensions: z.number().int().positive().describe("Vector length this side produces."),
});

export const embeddingMigrationSpecSchema = z.object({
  source: embeddingEndpointSchema.describe("The embedding model the stored vectors came from."),
  target: embeddingEndpointSchema.describe("The embedding model to re-embed with."),
  store: z.object({
    postgres: z.object({
      connectionSecretRef: secretKeyRefSchema.describe("Secret key holding a postgres:// connection URL."),
      table: z.string().min(1),
      idColumn: z.string().min(1),
      textColumn: z.string().min(1),
      targetColumn: z.string().min(1).describe("pgvector vector(n) or real[] column to fill."),
    }),
  }),
  batchSize: z.number().int().positive().max(2048).optional(),
  requestsPerMinute: z.number().int().positive().optional(),
  cutover: z.enum(["automatic", "manual"]).optional(),
  paused: z.boolean().optional(),
});

export const embeddingMigrationStatusSchema = z.object({
  observedGeneration: z.number().int().optional(),
  phase: z.enum(["Pending", "Running", "Paused", "Succeeded", "Failed"]).optional(),
  progress: z
    .object({ total: z.number().int(), done: z.number().int(), failed: z.number().int(), percent: z.string().optional() })
    .optional(),
  checkpoint: z.string().optional(),
  startedAt: z.string().optional(),
  completedAt: z.string().optional(),
  eta: z.string().optional(),
  conditions: z.array(conditionSchema).max(16).optional(),
});

export const embeddingMigrationSchema = z.object({
  apiVersion: z.literal(GROUP_VERSION),
  kind: z.literal("EmbeddingMigration"),
  metadata: objectMetaSchema,
  spec: embeddingMigrationSpecSchema,
  status: embeddingMigrationStatusSchema.optional(),
});

export type EmbeddingMigration = z.infer<typeof embeddingMigrationSchema>;
