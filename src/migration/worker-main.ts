import type { KubeConfig } from "@kubernetes/client-node";
import pg from "pg";
import type { Logger } from "../shared/logging.js";
import { EmbeddingClient } from "./embedding-client.js";
import { PermanentMigrationError } from "./migration-errors.js";
import { KubeMigrationResource, type MigrationResource } from "./migration-resource.js";
import { runMigration, type MigrationOutcome, type MigrationTiming } from "./migration-runner.js";
import { mergeConditions } from "../shared/conditions.js";

export interface WorkerOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  gatewayUrl: string;
  embeddingModel: string;
  inputPricePer1M?: number;
  /** postgres:// URL (SWITCHBOARD_STORE_URL); never logged. */
  storeUrl: string | undefined;
  /** Consumer key for the gateway (SWITCHBOARD_GATEWAY_API_KEY); never logged. */
  gatewayApiKey?: string;
  /** File holding a ServiceAccount token for the gateway (SWITCHBOARD_GATEWAY_TOKEN_FILE), re-read per request. */
  gatewayTokenFile?: string;
  logger: Logger;
  signal: AbortSignal;
  timing?: Partial<MigrationTiming>;
}

/** Exit codes the Job's podFailurePolicy relies on (see docs/embedding-migration.md). */
export const EXIT = {
  /** Succeeded, or the resource is gone. */
  done: 0,
  /** Transient failure: the Job restarts the pod, which resumes from the checkpoint. */
  transient: 1,
  /** Permanent failure, status already Failed with the reason: the Job must not retry. */
  permanent: 2,
  /** Stopped by SIGTERM/SIGINT after the last committed batch; a restart resumes. */
  interrupted: 143,
} as const;

/** SQLSTATEs of a connection that will never work: bad password, no such role or database. */
const STORE_REFUSALS = new Set(["28P01", "28000", "3D000"]);

/** `switchboard migrate`: runs one EmbeddingMigration and returns the process exit code. */
export async function runWorker(options: WorkerOptions): Promise<number> {
  const { logger } = options;
  const resource = new KubeMigrationResource(options.kubeConfig, options.namespace, options.name);
  let client: pg.Client | undefined;
  try {
    const migration = await resource.read();
    if (!migration) {
      logger.info(
        { migration: `${options.namespace}/${options.name}` },
        "EmbeddingMigration not found; nothing to do",
      );
      return EXIT.done;
    }
    if (!options.storeUrl) {
      throw new PermanentMigrationError(
        "StoreUrlMissing",
        "SWITCHBOARD_STORE_URL is not set (the Job takes it from spec.store.postgres.connectionSecretRef)",
      );
    }
    client = new pg.Client({ connectionString: options.storeUrl, application_name: "switchboard-migrate" });
    client.on("error", (err) => logger.warn({ err: err.message }, "store connection error"));
    try {
      await client.connect();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && STORE_REFUSALS.has(code)) {
        throw new PermanentMigrationError(
          "StoreConnectionRefused",
          `the store refused the connection: ${(err as Error).message}`,
        );
      }
      throw err;
    }
    const outcome = await runMigration({
      resource,
      migration,
      store: client,
      client: new EmbeddingClient({
        gatewayUrl: options.gatewayUrl,
        model: options.embeddingModel,
        apiKey: options.gatewayApiKey,
        tokenFile: options.gatewayTokenFile,
      }),
      embeddingModel: options.embeddingModel,
      inputPricePer1M: options.inputPricePer1M,
      logger,
      signal: options.signal,
      timing: options.timing,
    });
    logger.info({ outcome }, "migration worker finished");
    return exitCodeOf(outcome);
  } catch (err) {
    if (err instanceof PermanentMigrationError) {
      logger.error({ reason: err.reason, err: err.message }, "migration failed");
      await reportFailure(resource, err, logger);
      return EXIT.permanent;
    }
    logger.error(
      { err: (err as Error).message },
      "migration worker stopped by a transient error; the Job retries",
    );
    return EXIT.transient;
  } finally {
    await client?.end().catch(() => undefined);
  }
}

function exitCodeOf(outcome: MigrationOutcome): number {
  switch (outcome.result) {
    case "succeeded":
    case "deleted":
      return EXIT.done;
    case "failed":
      return EXIT.permanent;
    case "interrupted":
      return EXIT.interrupted;
  }
}

/** Failures before the run starts (no store URL, store refused) still end in Failed with a reason. */
async function reportFailure(resource: MigrationResource, err: PermanentMigrationError, logger: Logger) {
  try {
    const current = await resource.read().catch(() => undefined);
    const generation = current?.metadata.generation;
    // Keep what earlier runs reported (plan, progress), except fields the operator owns.
    const { jobName: _job, queryRoute: _route, ...reported } = current?.status ?? {};
    await resource.writeStatus({
      ...reported,
      phase: "Failed",
      observedGeneration: generation,
      conditions: mergeConditions(
        current?.status?.conditions?.filter((c) => c.type === "Ready"),
        [{ type: "Ready", status: "False", reason: err.reason, message: err.message }],
        generation,
      ),
    });
  } catch (writeErr) {
    logger.warn({ err: (writeErr as Error).message }, "could not write the Failed status");
  }
}
