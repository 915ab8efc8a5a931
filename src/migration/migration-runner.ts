import { setTimeout as sleep } from "node:timers/promises";
import type { ClientBase } from "pg";
import { mergeConditions } from "../shared/conditions.js";
import type { Logger } from "../shared/logging.js";
import {
  DEFAULT_BATCH_SIZE,
  type EmbeddingMigration,
  type EmbeddingMigrationStatus,
  type MigrationPhase,
} from "../shared/schemas/embedding-migration.js";
import { BatchEmbedder } from "./batch-embedder.js";
import type { EmbeddingClient } from "./embedding-client.js";
import { PermanentMigrationError } from "./migration-errors.js";
import type { MigrationResource } from "./migration-resource.js";
import { MigrationStore, type StoreRow } from "./migration-store.js";
import { estimatePlan, estimateTokens } from "./plan-estimate.js";
import { formatRate, ProgressMeter } from "./progress-meter.js";
import { RateLimiter } from "./rate-limiter.js";
import type { RetryOptions } from "./retry-backoff.js";
import { SpecPoller } from "./spec-poller.js";
import { StatusReporter } from "./status-reporter.js";
import { cutOverStore } from "./store-cutover.js";
import { storeLayout, type StoreLayout } from "./store-layout.js";

export interface MigrationTiming {
  /** Least time between progress writes to status. */
  statusIntervalMs: number;
  /** How often the resource is re-read for paused, cutoverApproved and deletion. */
  pollIntervalMs: number;
  /** Longest wait for the table lock at cutover, per attempt. */
  cutoverLockTimeoutMs: number;
  /** How often the resource is re-read while waiting for the query route to switch (CuttingOver). */
  routeSwitchPollMs: number;
}

export const DEFAULT_TIMING: MigrationTiming = {
  statusIntervalMs: 2_500,
  pollIntervalMs: 2_000,
  cutoverLockTimeoutMs: 5_000,
  routeSwitchPollMs: 250,
};

export interface MigrationRunOptions {
  resource: MigrationResource;
  /** The object as first read. */
  migration: EmbeddingMigration;
  /** Connected client to the store. */
  store: ClientBase;
  client: EmbeddingClient;
  /** The model name sent to /v1/embeddings. */
  embeddingModel: string;
  inputPricePer1M?: number;
  logger: Logger;
  signal: AbortSignal;
  timing?: Partial<MigrationTiming>;
  retry?: Omit<RetryOptions, "signal" | "onRetry">;
}

export type MigrationOutcome =
  | { result: "succeeded" }
  | { result: "failed"; reason: string; message: string }
  /** The resource was deleted: nothing left to report to. */
  | { result: "deleted" }
  /** Stopped by a signal after the last committed batch. */
  | { result: "interrupted" };

/** Lock-not-available (lock_timeout) from PostgreSQL. */
const LOCK_NOT_AVAILABLE = "55P03";
const CUTOVER_ATTEMPTS = 10;
const FAILED_SAMPLES = 10;

class Stop extends Error {
  constructor(readonly outcome: MigrationOutcome) {
    super(outcome.result);
  }
}

/**
 * One run of the migration worker, from Planning to Succeeded or Failed. The store holds the
 * truth (checkpoint, counts, failed rows, cutover time), so a new worker after a crash picks up
 * where the last committed batch left off and rebuilds its status from the store.
 */
export async function runMigration(options: MigrationRunOptions): Promise<MigrationOutcome> {
  const run = new MigrationRun(options);
  try {
    return await run.execute();
  } finally {
    run.close();
  }
}

class MigrationRun {
  private readonly timing: MigrationTiming;
  private readonly layout: StoreLayout;
  private readonly store: MigrationStore;
  private readonly reporter: StatusReporter;
  private readonly poller: SpecPoller;
  private readonly limiter: RateLimiter;
  private readonly meter = new ProgressMeter();
  private readonly embedder: BatchEmbedder;
  /** This migration's key in the store's side tables: a re-created resource starts afresh. */
  private readonly key: string;
  private total = 0;
  private done = 0;
  private failed = 0;
  private checkpoint: string | null = null;

  constructor(private readonly options: MigrationRunOptions) {
    const { migration } = options;
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.layout = storeLayout(migration.spec);
    const meta = migration.metadata;
    this.key = `${meta.namespace ?? "default"}/${meta.name}/${meta.uid ?? ""}`;
    this.store = new MigrationStore(options.store, this.layout, this.key);
    this.reporter = new StatusReporter(options.resource, options.logger, this.timing.statusIntervalMs, {
      conditions: migration.status?.conditions,
    });
    this.poller = new SpecPoller(options.resource, migration, this.timing.pollIntervalMs, options.logger);
    this.limiter = new RateLimiter(migration.spec.requestsPerMinute);
    this.embedder = new BatchEmbedder(
      options.client,
      this.limiter,
      migration.spec.target.dimensions,
      {
        attempts: 8,
        baseMs: 500,
        maxMs: 30_000,
        ...options.retry,
        onRetry: (err, attempt, waitMs) =>
          options.logger.warn({ err: err.message, attempt, waitMs: Math.round(waitMs) }, "retrying a batch"),
      },
      options.embeddingModel,
    );
  }

  private get spec() {
    return this.poller.migration.spec;
  }

  async execute(): Promise<MigrationOutcome> {
    this.poller.start();
    try {
      await this.plan();
      // A worker resumed after the query route switched keeps the phase, so the route stays put.
      if (!this.routeSwitched) {
        await this.setPhase("Running", "Running", `re-embedding rows with ${this.options.embeddingModel}`);
      }
      await this.pass((after, limit) => this.store.rowsAfter(after, limit), true);
      await this.pass((after, limit) => this.store.missingRowsAfter(after, limit), false);
      await this.awaitApproval();
      await this.verifyWithoutLock();
      await this.switchQueryRoute();
      await this.cutOver();
      return { result: "succeeded" };
    } catch (err) {
      if (err instanceof Stop) {
        if (err.outcome.result === "deleted") await this.dropTracking();
        else await this.reporter.flush();
        return err.outcome;
      }
      if (this.options.signal.aborted) {
        await this.reporter.flush();
        return { result: "interrupted" };
      }
      if (err instanceof PermanentMigrationError) {
        this.options.logger.error({ reason: err.reason, err: err.message }, "migration failed");
        await this.dropTracking();
        await this.setPhase("Failed", err.reason, err.message);
        return { result: "failed", reason: err.reason, message: err.message };
      }
      await this.reporter.flush();
      throw err;
    }
  }

  close(): void {
    this.poller.stop();
    this.reporter.close();
  }

  /** A failed or deleted migration leaves no trigger on the table; the store may be gone too. */
  private async dropTracking(): Promise<void> {
    await this.store.dropTracking().catch((err: unknown) => {
      this.options.logger.warn(
        { err: (err as Error).message },
        "could not remove the change-tracking trigger",
      );
    });
  }

  /** The operator has seen every gateway serve spec.route with the target (status.queryRoute). */
  private get routeSwitched(): boolean {
    return this.poller.migration.status?.queryRoute?.switchedAt !== undefined;
  }

  /** Planning on the first run; a resumed worker takes the plan and counts from the store. */
  private async plan(): Promise<void> {
    const spec = this.spec;
    let state = await this.store.state();
    if (state?.cutoverAt) {
      this.total = state.plannedRows;
      this.done = state.done;
      this.failed = state.failed;
      await this.succeed(state.cutoverAt);
      throw new Stop({ result: "succeeded" });
    }
    if (!state) await this.setPhase("Planning", "Planning", "counting rows and estimating tokens");
    const columns = { id: spec.store.postgres.idColumn, text: spec.store.postgres.textColumn };
    await this.store.prepare(columns, spec.target.dimensions);
    if (!state) {
      const measured = await this.store.measure();
      await this.store.begin(measured.rows, estimateTokens(measured.characters));
      state = (await this.store.state())!;
    }
    this.total = state.plannedRows;
    this.done = state.done;
    this.failed = state.failed;
    this.checkpoint = state.checkpoint;
    const plan = estimatePlan({
      rows: state.plannedRows,
      estimatedTokens: state.estimatedTokens,
      batchSize: spec.batchSize ?? DEFAULT_BATCH_SIZE,
      requestsPerMinute: spec.requestsPerMinute,
      inputPricePer1M: this.options.inputPricePer1M,
    });
    this.options.logger.info({ plan }, "plan");
    await this.reporter.update({
      plan,
      startedAt: state.startedAt.toISOString(),
      failedSamples: await this.samples(),
      ...this.progressFields(),
    });
  }

  /**
   * Embeds rows batch by batch until `next` returns none. The main pass moves the checkpoint;
   * the catch-up pass finds rows inserted behind it while the main pass ran.
   */
  private async pass(
    next: (after: string | null, limit: number) => Promise<StoreRow[]>,
    movesCheckpoint: boolean,
    pausable = true,
  ): Promise<void> {
    let after = movesCheckpoint ? this.checkpoint : null;
    for (;;) {
      if (pausable) await this.obeySpec();
      else this.checkStop();
      const rows = await next(after, this.spec.batchSize ?? DEFAULT_BATCH_SIZE);
      if (rows.length === 0) return;
      const batch = await this.embedder.embed(rows, this.options.signal);
      after = rows[rows.length - 1]!.id;
      const written = await this.store.commitBatch(
        batch.embedded,
        batch.failed,
        movesCheckpoint ? after : undefined,
      );
      if (movesCheckpoint) this.checkpoint = after;
      this.done += written;
      this.failed += batch.failed.length;
      this.meter.record(this.done + this.failed);
      const fields: Partial<EmbeddingMigrationStatus> = this.progressFields();
      if (batch.failed.length > 0 && (this.reporter.status.failedSamples?.length ?? 0) < FAILED_SAMPLES) {
        fields.failedSamples = await this.samples();
      }
      await this.reporter.update(fields);
    }
  }

  /** Between batches: stop on a signal or deletion, wait while paused, follow rate changes. */
  private async obeySpec(): Promise<void> {
    this.checkStop();
    this.limiter.setRate(this.spec.requestsPerMinute);
    if (!this.spec.paused) return;
    await this.setPhase("Paused", "Paused", "spec.paused is true; stopped after the last committed batch");
    while (this.spec.paused) await this.waitForSpec();
    this.meter.reset();
    await this.setPhase("Running", "Running", `re-embedding rows with ${this.options.embeddingModel}`);
  }

  private async awaitApproval(): Promise<void> {
    const manual = this.spec.cutover === "manual";
    if (!manual && this.failed === 0) return;
    if (!this.spec.cutoverApproved) {
      const message = manual
        ? "every row is re-embedded; set spec.cutoverApproved: true to cut over"
        : `${this.failed} rows failed (see status.failedSamples and the ${this.layout.names.table} side table ` +
          "switchboard_migration_failures); set spec.cutoverApproved: true to cut over without them";
      await this.reporter.update({ eta: undefined, rowsPerSecond: undefined });
      await this.setPhase("AwaitingCutover", manual ? "AwaitingApproval" : "RowsFailed", message);
      while (!this.spec.cutoverApproved) await this.waitForSpec();
    }
  }

  /**
   * The one full scan before the cutover, without any lock: rows still without a new vector
   * (inserted behind the checkpoint, edited after their batch, or written while waiting for
   * approval) are embedded, until none is left. What changes after it is in the changes table.
   */
  private async verifyWithoutLock(): Promise<void> {
    const started = performance.now();
    await this.pass((after, limit) => this.store.missingRowsAfter(after, limit), false);
    this.options.logger.info(
      { verifyMs: Math.round(performance.now() - started) },
      "every row in scope has its new vector (checked without a lock)",
    );
  }

  /**
   * Stored vectors and query embeddings switch together: once every row has its new vector, the
   * worker asks for the query route (phase CuttingOver) and waits until the operator reports that
   * every gateway serves spec.route with the target (status.queryRoute); only then does the store
   * cut over. The store's flip is the last, irreversible step, taken after the other side is
   * confirmed (docs/embedding-migration.md, "Cutover: why the gateways switch first"). Rows written meanwhile are embedded as they come.
   */
  private async switchQueryRoute(): Promise<void> {
    await this.store.pruneChanges();
    if (this.routeSwitched) return;
    await this.reporter.update({ eta: undefined, rowsPerSecond: undefined });
    await this.setPhase(
      "CuttingOver",
      "SwitchingQueryRoute",
      `every row has its new vector; waiting for every gateway to serve ${this.spec.route} with ` +
        `${this.options.embeddingModel} before the store cuts over`,
    );
    while (!this.routeSwitched) {
      await this.catchUpChanges();
      await sleep(this.timing.routeSwitchPollMs, undefined, { signal: this.options.signal });
      await this.poller.poll();
      this.checkStop();
    }
    this.options.logger.info(
      { queryRoute: this.poller.migration.status?.queryRoute },
      "query route switched",
    );
  }

  /** Embeds rows applications inserted or edited since the last prune, then forgets them. */
  private async catchUpChanges(): Promise<void> {
    // Not pausable: pausing now would hold the cutover between the two switches.
    await this.pass((after, limit) => this.store.missingRowsAfter(after, limit, true), false, false);
    await this.store.pruneChanges();
  }

  private async cutOver(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.checkStop();
      await this.catchUpChanges();
      try {
        const result = await cutOverStore(
          this.options.store,
          this.layout,
          this.key,
          this.timing.cutoverLockTimeoutMs,
        );
        if ("cutoverAt" in result) {
          this.options.logger.info(
            { lockHeldMs: Math.round(result.lockHeldMs * 10) / 10 },
            "store cut over; table lock released",
          );
          await this.succeed(result.cutoverAt);
          return;
        }
        this.options.logger.info(
          { missing: result.missingRows },
          "rows changed without a vector at cutover; embedding them",
        );
      } catch (err) {
        if ((err as { code?: string }).code !== LOCK_NOT_AVAILABLE || attempt >= CUTOVER_ATTEMPTS) throw err;
        this.options.logger.warn({ attempt }, "table busy at cutover; retrying");
        await sleep(1000 * attempt, undefined, { signal: this.options.signal });
      }
    }
  }

  private async succeed(cutoverAt: Date): Promise<void> {
    const names = this.layout.names;
    await this.reporter.update({
      ...this.progressFields(),
      eta: undefined,
      rowsPerSecond: undefined,
      cutoverAt: cutoverAt.toISOString(),
      completedAt: this.reporter.status.completedAt ?? new Date().toISOString(),
    });
    await this.setPhase(
      "Succeeded",
      "Succeeded",
      `${names.table}.${names.read} holds the vectors from ${this.options.embeddingModel}; ` +
        `the previous ones are in ${names.retired}`,
      "True",
    );
  }

  private async waitForSpec(): Promise<void> {
    await sleep(Math.min(500, this.timing.pollIntervalMs), undefined, { signal: this.options.signal });
    this.checkStop();
  }

  private checkStop(): void {
    if (this.options.signal.aborted) throw new Stop({ result: "interrupted" });
    if (this.poller.deleted) throw new Stop({ result: "deleted" });
    if (this.poller.error) throw this.poller.error;
  }

  private async setPhase(
    phase: MigrationPhase,
    reason: string,
    message: string,
    ready: "True" | "False" = "False",
  ): Promise<void> {
    const generation = this.poller.migration.metadata.generation;
    await this.reporter.update({
      phase,
      observedGeneration: generation,
      conditions: mergeConditions(
        this.reporter.status.conditions?.filter((c) => c.type === "Ready"),
        [{ type: "Ready", status: ready, reason, message }],
        generation,
      ),
    });
  }

  private progressFields(): Partial<EmbeddingMigrationStatus> {
    const processed = this.done + this.failed;
    const total = Math.max(this.total, processed);
    const rate = this.meter.rowsPerSecond();
    return {
      progress: {
        total,
        done: this.done,
        failed: this.failed,
        percent: `${total === 0 ? 100 : Math.floor((processed * 100) / total)}%`,
      },
      rowsPerSecond: rate === undefined ? undefined : formatRate(rate),
      eta: this.meter.eta(total - processed),
      checkpoint: this.checkpoint ?? undefined,
    };
  }

  private async samples() {
    return this.store.failureSamples(FAILED_SAMPLES);
  }
}
