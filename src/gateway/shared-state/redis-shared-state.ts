import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import {
  heldKey,
  type AdmissionCheck,
  type AdmissionResult,
  type BucketResult,
  type BucketSpec,
  type SharedState,
  type TakeMode,
} from "./shared-state.js";
import { ACQUIRE_LEASE_LUA, ADMIT_LUA, SETTLE_BUDGET_LUA, TAKE_TOKENS_LUA } from "./redis-scripts.js";

interface ScriptedRedis extends Redis {
  sbTakeTokens(
    key: string,
    capacity: number,
    refillPerMs: number,
    amount: number,
    mode: TakeMode,
  ): Promise<[number, string, number]>;
  /** Variadic: the number of keys, the keys, then the arguments (ADMIT_LUA). */
  sbAdmit(...keysThenArgs: Array<string | number>): Promise<[number, number, string, string]>;
  sbAcquireLease(key: string, max: number, ttlMs: number, leaseId: string): Promise<number>;
  sbSettleBudget(
    spentKey: string,
    heldKey: string,
    release: number,
    spend: number,
    ttlMs: number,
  ): Promise<string>;
}

export interface RedisSharedStateOptions {
  url: string;
  /** Prefix of every key, so several gateways (or tests) can share one Redis. */
  keyPrefix?: string;
  /** Longest wait for Redis per command before the gateway carries on without it. */
  commandTimeoutMs?: number;
  /** Called when Redis fails; the gateway then fails open (limits not enforced, cache misses). */
  onError?: (operation: string, err: unknown) => void;
}

/** The Redis URL without its password, for logs and error messages. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ""}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "redis (unparsable URL)";
  }
}

/**
 * State shared by every replica through Redis. Requests never wait on a Redis outage: commands
 * are not queued while disconnected, time out quickly, and a failure counts as "allowed" / cache
 * miss, reported through onError. Availability of the gateway wins over exact limits.
 */
export class RedisSharedState implements SharedState {
  readonly backend = "redis" as const;
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;
  private readonly onError: (operation: string, err: unknown) => void;

  private constructor(redis: ScriptedRedis, options: RedisSharedStateOptions) {
    this.redis = redis;
    this.prefix = options.keyPrefix ?? "switchboard:";
    this.onError = options.onError ?? (() => {});
  }

  /** Connects and checks Redis answers; rejects with a readable error (no password) if it does not. */
  static async connect(options: RedisSharedStateOptions): Promise<RedisSharedState> {
    const redis = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 500,
      connectTimeout: 5_000,
    }) as ScriptedRedis;
    redis.defineCommand("sbTakeTokens", { numberOfKeys: 1, lua: TAKE_TOKENS_LUA });
    redis.defineCommand("sbAdmit", { lua: ADMIT_LUA });
    redis.defineCommand("sbAcquireLease", { numberOfKeys: 1, lua: ACQUIRE_LEASE_LUA });
    redis.defineCommand("sbSettleBudget", { numberOfKeys: 2, lua: SETTLE_BUDGET_LUA });
    // ioredis reports connection trouble as events; without a listener they become crashes.
    redis.on("error", (err: unknown) => options.onError?.("connection", err));
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw new Error(`cannot reach Redis at ${describeRedisUrl(options.url)}: ${(err as Error).message}`);
    }
    return new RedisSharedState(redis, options);
  }

  private async guarded<T>(operation: string, run: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await run();
    } catch (err) {
      this.onError(operation, err);
      return fallback;
    }
  }

  takeTokens(key: string, spec: BucketSpec, amount: number, mode: TakeMode): Promise<BucketResult> {
    return this.guarded(
      "takeTokens",
      async () => {
        const [allowed, level, retryAfterMs] = await this.redis.sbTakeTokens(
          this.prefix + key,
          spec.capacity,
          spec.refillPerMs,
          amount,
          mode,
        );
        return { allowed: allowed === 1, level: Number(level), retryAfterMs };
      },
      { allowed: true, level: spec.capacity, retryAfterMs: 0 },
    );
  }

  admit(checks: readonly AdmissionCheck[]): Promise<AdmissionResult> {
    if (checks.length === 0) return Promise.resolve({ allowed: true });
    return this.guarded(
      "admit",
      async (): Promise<AdmissionResult> => {
        const keys = checks.flatMap((check) =>
          check.kind === "bucket"
            ? [this.prefix + check.key]
            : [this.prefix + check.key, this.prefix + heldKey(check.key)],
        );
        const args = checks.flatMap((check) =>
          check.kind === "bucket"
            ? ["bucket", check.spec.capacity, check.spec.refillPerMs, check.amount]
            : ["budget", check.limit, check.amount, Math.max(1, Math.round(check.ttlMs))],
        );
        const [refused, retryAfterMs, value, held] = await this.redis.sbAdmit(keys.length, ...keys, ...args);
        return refused === 0
          ? { allowed: true }
          : {
              allowed: false,
              refusedBy: refused - 1,
              retryAfterMs,
              value: Number(value),
              held: Number(held),
            };
      },
      { allowed: true },
    );
  }

  acquireLease(key: string, max: number, ttlMs: number): Promise<string | undefined> {
    const id = randomUUID();
    return this.guarded(
      "acquireLease",
      async () =>
        (await this.redis.sbAcquireLease(this.prefix + key, max, ttlMs, id)) === 1 ? id : undefined,
      id,
    );
  }

  releaseLease(key: string, leaseId: string): Promise<void> {
    return this.guarded(
      "releaseLease",
      async () => {
        await this.redis.zrem(this.prefix + key, leaseId);
      },
      undefined,
    );
  }

  settleBudget(key: string, release: number, spend: number, ttlMs: number): Promise<number> {
    return this.guarded(
      "settleBudget",
      async () =>
        Number(
          await this.redis.sbSettleBudget(
            this.prefix + key,
            this.prefix + heldKey(key),
            release,
            spend,
            Math.max(1, Math.round(ttlMs)),
          ),
        ),
      0,
    );
  }

  async addUsage(key: string, amounts: Readonly<Record<string, number>>, ttlMs: number): Promise<void> {
    await this.guarded(
      "addUsage",
      async () => {
        const multi = this.redis.multi();
        for (const [field, amount] of Object.entries(amounts))
          multi.hincrbyfloat(this.prefix + key, field, amount);
        await multi.pexpire(this.prefix + key, Math.max(1, Math.round(ttlMs)), "NX").exec();
      },
      undefined,
    );
  }

  readUsage(keys: readonly string[]): Promise<Array<Record<string, number>>> {
    return this.guarded(
      "readUsage",
      async () => {
        const pipeline = this.redis.pipeline();
        for (const key of keys) pipeline.hgetall(this.prefix + key);
        const replies = (await pipeline.exec()) ?? [];
        return replies.map(([err, hash]) => {
          if (err) throw err;
          return Object.fromEntries(
            Object.entries(hash as Record<string, string>).map(([field, value]) => [field, Number(value)]),
          );
        });
      },
      keys.map(() => ({})),
    );
  }

  cacheGet(key: string): Promise<string | undefined> {
    return this.guarded(
      "cacheGet",
      async () => (await this.redis.get(this.prefix + key)) ?? undefined,
      undefined,
    );
  }

  cacheSet(key: string, value: string, ttlMs: number): Promise<void> {
    return this.guarded(
      "cacheSet",
      async () => {
        await this.redis.set(this.prefix + key, value, "PX", Math.max(1, Math.round(ttlMs)));
      },
      undefined,
    );
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
