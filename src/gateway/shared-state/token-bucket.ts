import type { BucketResult, BucketSpec, TakeMode } from "./shared-state.js";

/**
 * Token-bucket arithmetic, kept pure so it can be tested with a fake clock. The Redis backend runs
 * the same steps in Lua (redis-scripts.ts); keep the two in step.
 */

export interface BucketState {
  level: number;
  updatedAt: number;
}

export function takeFromBucket(
  state: BucketState | undefined,
  spec: BucketSpec,
  amount: number,
  mode: TakeMode,
  now: number,
): { state: BucketState; result: BucketResult } {
  const elapsed = state ? Math.max(0, now - state.updatedAt) : 0;
  let level = state ? Math.min(spec.capacity, state.level + elapsed * spec.refillPerMs) : spec.capacity;
  // A request larger than the whole bucket can never "fit": let it through on a full bucket.
  const needed = Math.min(amount, spec.capacity);
  if (mode === "try" && level < needed) {
    const retryAfterMs = Math.ceil((needed - level) / spec.refillPerMs);
    return { state: { level, updatedAt: now }, result: { allowed: false, level, retryAfterMs } };
  }
  level = Math.min(spec.capacity, level - amount);
  return { state: { level, updatedAt: now }, result: { allowed: true, level, retryAfterMs: 0 } };
}

/** Milliseconds until an emptied bucket is full again: how long its state is worth keeping. */
export function bucketIdleTtlMs(spec: BucketSpec): number {
  return Math.ceil(spec.capacity / spec.refillPerMs) + 1000;
}
