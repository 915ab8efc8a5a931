/**
 * State that gateway replicas share: token buckets, concurrency leases, spend counters and cached
 * responses. One interface, two backends: in memory (per replica) and Redis (across replicas), so
 * limiters, budgets and the cache behave the same whichever is configured.
 */

export interface BucketSpec {
  /** Most tokens the bucket holds (the burst). */
  capacity: number;
  /** Tokens added back per millisecond. */
  refillPerMs: number;
}

/**
 * `try` takes `amount` only when the bucket holds enough (an amount above capacity needs a full
 * bucket, then leaves a debt); `force` takes it regardless, so usage reported after the fact is
 * still paid for, and a negative amount refunds an over-estimate.
 */
export type TakeMode = "try" | "force";

export interface BucketResult {
  allowed: boolean;
  /** Tokens left after this call; negative while a debt is being paid off. */
  level: number;
  /** When `allowed` is false: how long until the amount would fit. */
  retryAfterMs: number;
}

/** One limit a request must pass to be admitted. */
export type AdmissionCheck =
  | { kind: "bucket"; key: string; spec: BucketSpec; amount: number }
  /**
   * A spend budget: what was spent (at `key`) plus what requests in flight hold (at `key:held`).
   * Refuses once the spend reaches `limit`, or when holding `amount` more would pass it; otherwise
   * holds `amount` until settleBudget gives it back. Both counters expire `ttlMs` after their first write.
   */
  | { kind: "budget"; key: string; limit: number; amount: number; ttlMs: number };

export type AdmissionResult =
  | { allowed: true }
  | {
      allowed: false;
      /** Index of the first check, in the order given, that refused. */
      refusedBy: number;
      /** How long until the refusing bucket's amount fits; 0 for a budget (its caller knows when it resets). */
      retryAfterMs: number;
      /** The refusing bucket's level, or the budget's spend. */
      value: number;
      /** For a budget: what requests in flight hold of it; 0 for a bucket. */
      held: number;
    };

/** The key of what requests in flight hold of the budget at `key`. */
export function heldKey(key: string): string {
  return `${key}:held`;
}

/** Holds and spends smaller than this are rounding left over from adding and taking back floats. */
export const BUDGET_EPSILON = 1e-9;

export interface SharedState {
  readonly backend: "memory" | "redis";
  takeTokens(key: string, spec: BucketSpec, amount: number, mode: TakeMode): Promise<BucketResult>;
  /**
   * All or nothing, atomically (one round trip to Redis): takes every bucket's amount as `try`
   * would if every check passes, and nothing at all otherwise. Keys must be distinct.
   */
  admit(checks: readonly AdmissionCheck[]): Promise<AdmissionResult>;
  /** Takes one of `max` slots for at most `ttlMs` (a crashed holder's slot frees itself). */
  acquireLease(key: string, max: number, ttlMs: number): Promise<string | undefined>;
  releaseLease(key: string, leaseId: string): Promise<void>;
  /**
   * Settles a request against a budget admitted with a `budget` check, atomically: gives back
   * `release` of what it held and adds `spend` to what was spent. Returns what was spent.
   */
  settleBudget(key: string, release: number, spend: number, ttlMs: number): Promise<number>;
  /**
   * Adds to named counters kept together at `key` (usage shown in status: requests, tokens, USD),
   * which expire `ttlMs` after their first write. Atomic per key; never throws.
   */
  addUsage(key: string, amounts: Readonly<Record<string, number>>, ttlMs: number): Promise<void>;
  /** The counters at each key, in order; {} for a key never written or expired. */
  readUsage(keys: readonly string[]): Promise<Array<Record<string, number>>>;
  cacheGet(key: string): Promise<string | undefined>;
  cacheSet(key: string, value: string, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}
