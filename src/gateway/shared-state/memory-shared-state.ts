import { randomUUID } from "node:crypto";
import { LruCache } from "./lru-cache.js";
import {
  BUDGET_EPSILON,
  heldKey,
  type AdmissionCheck,
  type AdmissionResult,
  type BucketResult,
  type BucketSpec,
  type SharedState,
  type TakeMode,
} from "./shared-state.js";
import { budgetFits } from "./budget-hold.js";
import { takeFromBucket, type BucketState } from "./token-bucket.js";

export interface MemorySharedStateOptions {
  cacheMaxEntries?: number;
  /** Total characters of cached responses kept (≈ bytes for JSON). */
  cacheMaxChars?: number;
  now?: () => number;
}

/** Counters and buckets past this many keys get their expired entries swept. */
const SWEEP_THRESHOLD = 10_000;

/** Per-replica state: what every limit and the cache use when no Redis is configured. */
export class MemorySharedState implements SharedState {
  readonly backend = "memory" as const;
  private readonly buckets = new Map<string, BucketState>();
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly counters = new Map<string, { value: number; expiresAt: number }>();
  /** The counter names written under each usage key. */
  private readonly usageFields = new Map<string, Set<string>>();
  private readonly cache: LruCache;
  private readonly now: () => number;

  constructor(options: MemorySharedStateOptions = {}) {
    this.now = options.now ?? Date.now;
    this.cache = new LruCache(
      options.cacheMaxEntries ?? 10_000,
      options.cacheMaxChars ?? 64 * 1024 * 1024,
      this.now,
    );
  }

  async takeTokens(key: string, spec: BucketSpec, amount: number, mode: TakeMode): Promise<BucketResult> {
    const { state, result } = takeFromBucket(this.buckets.get(key), spec, amount, mode, this.now());
    this.buckets.set(key, state);
    return result;
  }

  async admit(checks: readonly AdmissionCheck[]): Promise<AdmissionResult> {
    const now = this.now();
    const taken: Array<[string, BucketState]> = [];
    const holds: Array<Extract<AdmissionCheck, { kind: "budget" }>> = [];
    for (const [index, check] of checks.entries()) {
      if (check.kind === "budget") {
        const spent = this.counter(check.key, now);
        const held = this.counter(heldKey(check.key), now);
        if (!budgetFits(spent, held, check.limit, check.amount)) {
          return { allowed: false, refusedBy: index, retryAfterMs: 0, value: spent, held: Math.max(0, held) };
        }
        holds.push(check);
        continue;
      }
      const { state, result } = takeFromBucket(
        this.buckets.get(check.key),
        check.spec,
        check.amount,
        "try",
        now,
      );
      if (!result.allowed) {
        return {
          allowed: false,
          refusedBy: index,
          retryAfterMs: result.retryAfterMs,
          value: result.level,
          held: 0,
        };
      }
      taken.push([check.key, state]);
    }
    for (const [key, state] of taken) this.buckets.set(key, state);
    for (const hold of holds) {
      if (hold.amount > 0) this.addToCounter(heldKey(hold.key), hold.amount, hold.ttlMs, now);
    }
    return { allowed: true };
  }

  async acquireLease(key: string, max: number, ttlMs: number): Promise<string | undefined> {
    const now = this.now();
    const holders = this.leases.get(key) ?? new Map<string, number>();
    for (const [id, expiresAt] of holders) if (expiresAt <= now) holders.delete(id);
    this.leases.set(key, holders);
    if (holders.size >= max) return undefined;
    const id = randomUUID();
    holders.set(id, now + ttlMs);
    return id;
  }

  async releaseLease(key: string, leaseId: string): Promise<void> {
    this.leases.get(key)?.delete(leaseId);
  }

  async settleBudget(key: string, release: number, spend: number, ttlMs: number): Promise<number> {
    const now = this.now();
    if (release !== 0) {
      const held = this.addToCounter(heldKey(key), -release, ttlMs, now);
      // Never below zero: a hold taken while Redis was away was never recorded.
      if (held < BUDGET_EPSILON) this.counters.delete(heldKey(key));
    }
    return spend !== 0 ? this.addToCounter(key, spend, ttlMs, now) : this.counter(key, now);
  }

  async addUsage(key: string, amounts: Readonly<Record<string, number>>, ttlMs: number): Promise<void> {
    const now = this.now();
    for (const [field, amount] of Object.entries(amounts))
      this.addToCounter(usageField(key, field), amount, ttlMs, now);
    const fields = this.usageFields.get(key) ?? new Set<string>();
    for (const field of Object.keys(amounts)) fields.add(field);
    this.usageFields.set(key, fields);
  }

  async readUsage(keys: readonly string[]): Promise<Array<Record<string, number>>> {
    const now = this.now();
    return keys.map((key) => {
      const usage: Record<string, number> = {};
      for (const field of this.usageFields.get(key) ?? []) {
        const counter = this.counters.get(usageField(key, field));
        if (counter && counter.expiresAt > now) usage[field] = counter.value;
      }
      return usage;
    });
  }

  private counter(key: string, now: number): number {
    const counter = this.counters.get(key);
    return counter && counter.expiresAt > now ? counter.value : 0;
  }

  /** Adds to a counter that expires `ttlMs` after its first write; returns the total. */
  private addToCounter(key: string, amount: number, ttlMs: number, now: number): number {
    if (this.counters.size > SWEEP_THRESHOLD) {
      for (const [k, c] of this.counters) if (c.expiresAt <= now) this.counters.delete(k);
    }
    let counter = this.counters.get(key);
    if (!counter || counter.expiresAt <= now) {
      counter = { value: 0, expiresAt: now + ttlMs };
      this.counters.set(key, counter);
    }
    counter.value += amount;
    return counter.value;
  }

  async cacheGet(key: string): Promise<string | undefined> {
    return this.cache.get(key);
  }

  async cacheSet(key: string, value: string, ttlMs: number): Promise<void> {
    this.cache.set(key, value, ttlMs);
  }

  async close(): Promise<void> {}
}

function usageField(key: string, field: string): string {
  return `${key}#${field}`;
}
