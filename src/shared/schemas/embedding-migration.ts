import { z } from "zod";
import {
  customResourceSchema,
  conditionsSchema,
  observedGenerationSchema,
  resourceNameSchema,
  secretKeyRefSchema,
  timestampSchema,
} from "./common.js";
import { withCelRules } from "./kubernetes-extensions.js";

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
      dimensions: z.number().int().positive().max(16000).describe("Vector length this side produces."),
    })
    .refine((side) => (side.route === undefined) !== (side.provider === undefined), ROUTE_OR_PROVIDER)
    .refine((side) => side.provider === undefined || side.model !== undefined, MODEL_WITH_PROVIDER),
  [
    { rule: "has(self.route) != has(self.provider)", message: ROUTE_OR_PROVIDER },
    { rule: "!has(self.provider) || has(self.model)", message: MODEL_WITH_PROVIDER },
  ],
);

/**
 * Identifiers the worker puts into SQL. It quotes them anyway; the rule keeps them to
 * what PostgreSQL folds unquoted names to, so `id` in the spec is the `id` of `CREATE TABLE t (id ...)`.
 */
const IDENTIFIER = "[a-z_][a-z0-9_]{0,62}";
export const SQL_IDENTIFIER_PATTERN = new RegExp(`^${IDENTIFIER}$`);
export const SQL_TABLE_PATTERN = new RegExp(`^${IDENTIFIER}(\\.${IDENTIFIER})?$`);
const IDENTIFIER_MESSAGE =
  "must be a lowercase SQL identifier: a-z, 0-9 and _, not starting with a digit, at most 63 characters";
const TABLE_MESSAGE =
  "must be a table name, optionally schema-qualified (schema.table), each part a lowercase SQL identifier";

function sqlIdentifier(pattern: RegExp, maxLength: number, message: string) {
  return withCelRules(
    z
      .string()
      .min(1)
      .max(maxLength)
      .refine((value) => pattern.test(value), message),
    [{ rule: `self.matches('${pattern.source.replaceAll("\\", "\\\\")}')`, message }],
  );
}

const columnSchema = sqlIdentifier(SQL_IDENTIFIER_PATTERN, 63, IDENTIFIER_MESSAGE);

export const WHERE_OPERATORS = ["eq", "ne", "lt", "le", "gt", "ge", "in", "isNull", "isNotNull"] as const;
export type WhereOperator = (typeof WHERE_OPERATORS)[number];
const WHERE_OPERANDS =
  "set value for eq, ne, lt, le, gt and ge, values for in, and neither for isNull and isNotNull";

function operandsFit(condition: { op: WhereOperator; value?: string; values?: string[] }): boolean {
  if (condition.op === "isNull" || condition.op === "isNotNull") {
    return condition.value === undefined && condition.values === undefined;
  }
  if (condition.op === "in") return condition.value === undefined && condition.values !== undefined;
  return condition.value !== undefined && condition.values === undefined;
}

export const whereConditionSchema = withCelRules(
  z
    .object({
      column: columnSchema.describe("Column to compare."),
      op: z
        .enum(WHERE_OPERATORS)
        .describe("eq, ne, lt, le, gt, ge, in (one of values), isNull or isNotNull."),
      value: z
        .string()
        .max(1024)
        .optional()
        .describe("Compared as the column's type; bound as a query parameter, never spliced into SQL."),
      values: z.array(z.string().max(1024)).min(1).max(64).optional().describe("The list for op in."),
    })
    .refine(operandsFit, WHERE_OPERANDS),
  [
    {
      rule:
        "self.op in ['isNull', 'isNotNull'] ? !has(self.value) && !has(self.values) : " +
        "(self.op == 'in' ? has(self.values) && !has(self.value) : has(self.value) && !has(self.values))",
      message: WHERE_OPERANDS,
    },
  ],
).describe("One condition on a column; a row is migrated when all conditions hold.");

export type WhereCondition = z.infer<typeof whereConditionSchema>;

const DISTINCT_COLUMNS =
  "targetColumn, readColumn and retiredColumn must be three different columns, none of them idColumn or textColumn";

const postgresStoreSchema = withCelRules(
  z
    .object({
      connectionSecretRef: secretKeyRefSchema.describe("Secret key holding a postgres:// connection URL."),
      table: sqlIdentifier(SQL_TABLE_PATTERN, 127, TABLE_MESSAGE).describe(
        "Table holding the rows, optionally schema-qualified (schema.table).",
      ),
      idColumn: columnSchema.describe(
        "Unique, ordered key (integer or text primary key); the resume checkpoint is the last id done.",
      ),
      textColumn: columnSchema.describe("Column with the text to embed."),
      targetColumn: columnSchema.describe(
        "Column the new vectors are written to while the migration runs; created as vector(n) when pgvector " +
          "is installed, real[] otherwise. At cutover it is renamed to readColumn.",
      ),
      readColumn: columnSchema.describe(
        "Column applications read vectors from. It keeps the old vectors until cutover, when one " +
          "transaction renames it to retiredColumn and targetColumn to it.",
      ),
      retiredColumn: columnSchema.describe(
        "Name the old vectors get at cutover; kept so you can roll back, drop it when done. Must not exist.",
      ),
      where: z
        .array(whereConditionSchema)
        .max(8)
        .optional()
        .describe("Migrate only rows matching all of these conditions; every row by default."),
    })
    .refine((store) => {
      const vectorColumns = [store.targetColumn, store.readColumn, store.retiredColumn];
      return (
        new Set(vectorColumns).size === 3 &&
        !vectorColumns.includes(store.idColumn) &&
        !vectorColumns.includes(store.textColumn)
      );
    }, DISTINCT_COLUMNS),
  [
    {
      rule:
        "self.targetColumn != self.readColumn && self.targetColumn != self.retiredColumn && " +
        "self.readColumn != self.retiredColumn && " +
        "!(self.idColumn in [self.targetColumn, self.readColumn, self.retiredColumn]) && " +
        "!(self.textColumn in [self.targetColumn, self.readColumn, self.retiredColumn])",
      message: DISTINCT_COLUMNS,
    },
  ],
).describe("A PostgreSQL table, with pgvector or real[] columns.");

const ONE_CREDENTIAL = "set exactly one of apiKeySecretRef or serviceAccountToken";

const gatewayCredentialSchema = withCelRules(
  z
    .object({
      apiKeySecretRef: secretKeyRefSchema
        .optional()
        .describe(
          "Secret key holding a consumer API key the routes admit (an LLMRoute consumer's apiKeySecretRef); " +
            "the Job gets it as env from the Secret.",
        ),
      serviceAccountToken: z
        .boolean()
        .optional()
        .describe(
          "When true, the worker sends its pod's ServiceAccount token (<name>-migrate, refreshed by the " +
            "kubelet); list that ServiceAccount as a consumer of the routes.",
        ),
    })
    .refine((c) => (c.apiKeySecretRef !== undefined) !== (c.serviceAccountToken === true), ONE_CREDENTIAL),
  [
    {
      rule: "has(self.apiKeySecretRef) != (has(self.serviceAccountToken) && self.serviceAccountToken)",
      message: ONE_CREDENTIAL,
    },
  ],
).describe("How the worker authenticates to the gateway on routes that have consumers.");

export const DEFAULT_BATCH_SIZE = 64;

export const embeddingMigrationSpecSchema = z
  .object({
    source: embeddingEndpointSchema.describe("The embedding model the stored vectors came from."),
    target: embeddingEndpointSchema.describe("The embedding model to re-embed with."),
    route: z
      .string()
      .min(1)
      .max(200)
      .describe(
        "The LLMRoute model name applications call for query embeddings: it serves the source model " +
          "until cutover and the target model after, in step with the stored vectors.",
      ),
    store: z.object({ postgres: postgresStoreSchema }).describe("Where the rows to re-embed live."),
    gatewayCredential: gatewayCredentialSchema.optional(),
    batchSize: z
      .number()
      .int()
      .positive()
      .max(2048)
      .optional()
      .describe(`Rows embedded per request; ${DEFAULT_BATCH_SIZE} by default.`),
    requestsPerMinute: z
      .number()
      .int()
      .positive()
      .max(100000)
      .optional()
      .describe("Embedding requests per minute, at most; unlimited by default."),
    cutover: z
      .enum(["automatic", "manual"])
      .optional()
      .describe(
        "automatic (default) cuts over when every row is done and none failed; manual waits in " +
          "AwaitingCutover until cutoverApproved.",
      ),
    cutoverApproved: z
      .boolean()
      .optional()
      .describe("Approves the cutover of a migration waiting in AwaitingCutover (manual, or rows failed)."),
    paused: z.boolean().optional().describe("Stops the migration after the batch in flight while true."),
  })
  .describe("Desired state: what to re-embed, from which model to which, and how fast.");

export const MIGRATION_PHASES = [
  "Pending",
  "Planning",
  "Running",
  "Paused",
  "AwaitingCutover",
  "CuttingOver",
  "Succeeded",
  "Failed",
] as const;
export type MigrationPhase = (typeof MIGRATION_PHASES)[number];

export const embeddingMigrationStatusSchema = z
  .object({
    observedGeneration: observedGenerationSchema,
    phase: z
      .enum(MIGRATION_PHASES)
      .optional()
      .describe(
        "Pending, Planning, Running, Paused, AwaitingCutover, CuttingOver (every row has its new vector; " +
          "the query route switches on every gateway, then the store), Succeeded or Failed.",
      ),
    plan: z
      .object({
        rows: z.number().int().min(0).describe("Rows to re-embed."),
        estimatedTokens: z.number().int().min(0).describe("Input tokens, estimated from the text length."),
        estimatedCostUsd: z
          .string()
          .max(32)
          .optional()
          .describe("Estimated cost in USD from the target model's input price, e.g. 0.42."),
        estimatedDuration: z
          .string()
          .max(32)
          .optional()
          .describe("Estimated run time at the configured rate, e.g. 3m20s."),
      })
      .optional()
      .describe("Computed before any row is embedded."),
    progress: z
      .object({
        total: z.number().int().min(0).describe("Rows to re-embed."),
        done: z.number().int().min(0).describe("Rows re-embedded."),
        failed: z.number().int().min(0).describe("Rows that failed; recorded, never dropped."),
        percent: z.string().max(8).optional().describe("done out of total, e.g. 42%; shown by kubectl get."),
      })
      .optional()
      .describe("Row counts."),
    rowsPerSecond: z.string().max(32).optional().describe("Recent throughput, e.g. 812.5."),
    eta: z.string().max(32).optional().describe("Estimated time left, e.g. 12m; shown by kubectl get."),
    checkpoint: z
      .string()
      .max(1024)
      .optional()
      .describe("Last id done; committed in the store with each batch, a new worker resumes after it."),
    failedSamples: z
      .array(
        z
          .object({
            id: z.string().max(256).describe("The row's id."),
            reason: z.string().max(1024).describe("Why it failed."),
          })
          .describe("A row that failed for good."),
      )
      .max(10)
      .optional()
      .describe("Up to 10 failed rows; all of them are in the store's side table."),
    startedAt: timestampSchema.optional().describe("When the migration started (RFC 3339)."),
    completedAt: timestampSchema.optional().describe("When it finished (RFC 3339)."),
    cutoverAt: timestampSchema.optional().describe("When the store cut over to the new vectors (RFC 3339)."),
    jobName: z.string().max(63).optional().describe("The Job running the migration."),
    queryRoute: z
      .object({
        switchedAt: timestampSchema.describe(
          "When the operator saw spec.route serve the target on every gateway (RFC 3339).",
        ),
        configVersion: z.string().max(128).describe("The gateway config version that switched it."),
        gateways: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe(
            "Gateway pods seen serving that version; absent when the operator watches no gateways " +
              "(no --gateway-service), which then takes the publication of the snapshot as the switch.",
          ),
      })
      .optional()
      .describe(
        "Written by the operator during CuttingOver: spec.route serves the target on every gateway. " +
          "The store cuts over only after this.",
      ),
    conditions: conditionsSchema.optional(),
  })
  .describe("Observed state, written by the operator and the migration worker.");

export const embeddingMigrationSchema = customResourceSchema(
  "EmbeddingMigration",
  embeddingMigrationSpecSchema,
  embeddingMigrationStatusSchema,
  "EmbeddingMigration re-embeds a knowledge base with a new embedding model (vectors from different " +
    "models are not comparable), as a resumable Job owned by the resource, and cuts stored vectors " +
    "and query embeddings over together.",
);

export type EmbeddingMigration = z.infer<typeof embeddingMigrationSchema>;
export type EmbeddingMigrationSpec = z.infer<typeof embeddingMigrationSpecSchema>;
export type EmbeddingMigrationStatus = z.infer<typeof embeddingMigrationStatusSchema>;
