import type { Logger } from "../shared/logging.js";
import type { EmbeddingMigration } from "../shared/schemas/embedding-migration.js";
import type { MigrationResource } from "./migration-resource.js";

/**
 * Re-reads the EmbeddingMigration every `intervalMs` so spec.paused, spec.cutoverApproved and
 * requestsPerMinute take effect while the worker runs, and notices when it is deleted. One GET
 * per interval: cheap for the API server, and correct after any disconnect without resuming a watch.
 */
export class SpecPoller {
  private timer: NodeJS.Timeout | undefined;
  private current: EmbeddingMigration;
  private gone = false;
  private failure: Error | undefined;

  constructor(
    private readonly resource: MigrationResource,
    initial: EmbeddingMigration,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    this.current = initial;
  }

  get migration(): EmbeddingMigration {
    return this.current;
  }

  get deleted(): boolean {
    return this.gone;
  }

  /** A permanent problem found on a read (the spec became invalid). */
  get error(): Error | undefined {
    return this.failure;
  }

  start(): void {
    const tick = async () => {
      await this.poll();
      if (!this.gone && !this.failure) this.timer = setTimeout(() => void tick(), this.intervalMs);
    };
    this.timer = setTimeout(() => void tick(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  async poll(): Promise<void> {
    try {
      const latest = await this.resource.read();
      if (latest) this.current = latest;
      else this.gone = true;
    } catch (err) {
      if ((err as Error).name === "PermanentMigrationError") this.failure = err as Error;
      else
        this.logger.warn({ err: (err as Error).message }, "reading the EmbeddingMigration failed; retrying");
    }
  }
}
