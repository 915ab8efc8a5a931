import type { Logger } from "../shared/logging.js";
import type { EmbeddingMigrationStatus } from "../shared/schemas/embedding-migration.js";
import type { MigrationResource } from "./migration-resource.js";

/**
 * Writes the worker's status: at once on a phase change, otherwise at most every
 * `intervalMs`, coalescing the updates in between, with one write in flight at a time. A write
 * that fails is logged and retried with the next one: status is a report, the store holds the
 * truth, so a slow API server never stalls the migration.
 */
export class StatusReporter {
  private current: EmbeddingMigrationStatus;
  private lastWriteAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private dirty = false;

  constructor(
    private readonly resource: MigrationResource,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    initial: EmbeddingMigrationStatus = {},
  ) {
    this.current = initial;
  }

  get status(): EmbeddingMigrationStatus {
    return this.current;
  }

  /** Merges fields into the status; `undefined` removes a field. Writes now when the phase changed. */
  update(fields: Partial<EmbeddingMigrationStatus>): Promise<void> {
    const phaseChanged = fields.phase !== undefined && fields.phase !== this.current.phase;
    const next: Record<string, unknown> = { ...this.current, ...fields };
    for (const key of Object.keys(next)) if (next[key] === undefined) delete next[key];
    this.current = next as EmbeddingMigrationStatus;
    this.dirty = true;
    if (phaseChanged) return this.flush();
    this.schedule();
    return Promise.resolve();
  }

  /** Writes what is pending now and waits for it. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.inFlight) await this.inFlight;
    if (!this.dirty) return;
    this.dirty = false;
    const snapshot = this.current;
    this.lastWriteAt = Date.now();
    this.inFlight = this.resource
      .writeStatus(snapshot)
      .catch((err: unknown) => {
        this.dirty = true;
        this.logger.warn(
          { err: (err as Error).message },
          "status write failed; retrying with the next update",
        );
      })
      .finally(() => (this.inFlight = undefined));
    await this.inFlight;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastWriteAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
    this.timer.unref();
  }
}
