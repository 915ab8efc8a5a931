/**
 * A failure no retry can fix (wrong dimensions, a residency refusal, a store without the
 * columns the spec names): the migration goes to Failed with this reason and message, and
 * the worker exits 2 so the Job is not retried.
 */
export class PermanentMigrationError extends Error {
  constructor(
    /** CamelCase condition reason, e.g. DimensionMismatch. */
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "PermanentMigrationError";
  }
}

/** Transient failures that outlasted every retry; the Job restarts the worker, which resumes. */
export class TransientMigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TransientMigrationError";
  }
}
