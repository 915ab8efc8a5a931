import type { EmbeddingClient } from "./embedding-client.js";
import { EmbeddingRequestError } from "./embedding-client.js";
import { PermanentMigrationError } from "./migration-errors.js";
import type { RowFailure, StoreRow } from "./migration-store.js";
import type { RateLimiter } from "./rate-limiter.js";
import { withRetries, type RetryOptions } from "./retry-backoff.js";

export interface EmbeddedBatch {
  embedded: Array<{ id: string; text: string; vector: Float32Array }>;
  failed: RowFailure[];
  requests: number;
}

const MAX_REASON = 1000;

/**
 * Embeds a batch of rows through the gateway. A batch the gateway refuses as bad input is
 * split in halves until the rows at fault are found alone; those are failed rows (id and the
 * gateway's reason), the rest are embedded. Every vector must have the target's length.
 */
export class BatchEmbedder {
  constructor(
    private readonly client: EmbeddingClient,
    private readonly limiter: RateLimiter,
    private readonly dimensions: number,
    private readonly retry: Omit<RetryOptions, "signal">,
    private readonly model: string,
  ) {}

  async embed(rows: readonly StoreRow[], signal?: AbortSignal): Promise<EmbeddedBatch> {
    const out: EmbeddedBatch = { embedded: [], failed: [], requests: 0 };
    const withText: Array<{ id: string; text: string }> = [];
    for (const row of rows) {
      if (row.text === null || row.text.trim() === "")
        out.failed.push({ id: row.id, reason: "text is empty" });
      else withText.push({ id: row.id, text: row.text });
    }
    await this.embedPart(withText, out, signal);
    return out;
  }

  private async embedPart(
    rows: Array<{ id: string; text: string }>,
    out: EmbeddedBatch,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (rows.length === 0) return;
    try {
      const result = await withRetries(
        async () => {
          await this.limiter.acquire(signal);
          out.requests++;
          return this.client.embed(
            rows.map((r) => r.text),
            signal,
          );
        },
        { ...this.retry, signal },
      );
      result.vectors.forEach((vector, i) => {
        if (vector.length !== this.dimensions) {
          throw new PermanentMigrationError(
            "DimensionMismatch",
            `the gateway returned ${vector.length}-dimensional vectors from ${this.model}, ` +
              `but spec.target.dimensions is ${this.dimensions}; no vector was written for this batch`,
          );
        }
        out.embedded.push({ ...rows[i]!, vector });
      });
    } catch (err) {
      if (!(err instanceof EmbeddingRequestError)) throw err;
      if (err.kind === "policy") {
        throw new PermanentMigrationError(
          "ResidencyRefused",
          `the gateway refused ${this.model} under the route's data-residency policy: ${err.message}`,
        );
      }
      if (err.kind === "refused") {
        throw new PermanentMigrationError(
          "GatewayRefused",
          `the gateway refused the request: ${err.message}`,
        );
      }
      if (rows.length === 1) {
        out.failed.push({ id: rows[0]!.id, reason: err.message.slice(0, MAX_REASON) });
        return;
      }
      const half = Math.ceil(rows.length / 2);
      await this.embedPart(rows.slice(0, half), out, signal);
      await this.embedPart(rows.slice(half), out, signal);
    }
  }
}
