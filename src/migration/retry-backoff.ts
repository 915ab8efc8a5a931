import { setTimeout as sleep } from "node:timers/promises";
import { EmbeddingRequestError } from "./embedding-client.js";
import { TransientMigrationError } from "./migration-errors.js";

export interface RetryOptions {
  attempts: number;
  baseMs: number;
  maxMs: number;
  signal?: AbortSignal;
  onRetry?: (err: EmbeddingRequestError, attempt: number, waitMs: number) => void;
}

/**
 * Retries transient gateway failures with exponential backoff and full jitter, waiting at
 * least what Retry-After asks. Other failures pass through at once; when the attempts run
 * out, a TransientMigrationError ends the worker so the Job restarts it from the checkpoint.
 */
export async function withRetries<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof EmbeddingRequestError) || err.kind !== "transient") throw err;
      if (attempt >= options.attempts) {
        throw new TransientMigrationError(`${err.message} (gave up after ${attempt} attempts)`, {
          cause: err,
        });
      }
      const backoff = Math.random() * Math.min(options.maxMs, options.baseMs * 2 ** (attempt - 1));
      const wait = Math.max(backoff, err.retryAfterMs ?? 0);
      options.onRetry?.(err, attempt, wait);
      await sleep(wait, undefined, { signal: options.signal });
    }
  }
}
