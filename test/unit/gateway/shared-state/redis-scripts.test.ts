import { LuaFactory, type LuaEngine } from "wasmoon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemorySharedState } from "../../../../src/gateway/shared-state/memory-shared-state.js";
import {
  ADMIT_LUA,
  SETTLE_BUDGET_LUA,
  TAKE_TOKENS_LUA,
} from "../../../../src/gateway/shared-state/redis-scripts.js";
import {
  heldKey,
  type AdmissionCheck,
  type AdmissionResult,
  type BucketSpec,
  type TakeMode,
} from "../../../../src/gateway/shared-state/shared-state.js";
import { takeFromBucket, type BucketState } from "../../../../src/gateway/shared-state/token-bucket.js";

/**
 * Runs the Redis Lua scripts in a real Lua VM against a small in-memory Redis with a fake clock,
 * and checks they decide exactly as the TypeScript the memory backend runs. (wasmoon is Lua 5.4,
 * Redis has 5.1: test/integration/gateway/shared-redis.test.ts runs the scripts in real Redis.)
 */
class FakeRedis {
  now = 0;
  private readonly hashes = new Map<string, Map<string, string>>();
  readonly strings = new Map<string, string>();
  private readonly expiring = new Set<string>();

  call(command: string, key: string, ...args: string[]): unknown {
    switch (command) {
      case "TIME":
        return [String(Math.floor(this.now / 1000)), String((this.now % 1000) * 1000)];
      case "HMGET":
        return args.map((field) => this.hashes.get(key)?.get(field) ?? false);
      case "HSET": {
        const hash = this.hashes.get(key) ?? new Map<string, string>();
        for (let i = 0; i < args.length; i += 2) hash.set(args[i]!, args[i + 1]!);
        this.hashes.set(key, hash);
        return 0;
      }
      case "PEXPIRE":
        this.expiring.add(key);
        return 1;
      case "PTTL":
        return this.expiring.has(key) ? 1 : this.strings.has(key) || this.hashes.has(key) ? -1 : -2;
      case "GET":
        return this.strings.get(key) ?? false;
      case "INCRBYFLOAT": {
        // Redis formats the sum with 17 significant digits, as '%.17g' does; so does the script.
        const total = Number(this.strings.get(key) ?? "0") + Number(args[0]);
        this.strings.set(key, String(Number(total.toPrecision(17))));
        return this.strings.get(key);
      }
      case "DEL":
        this.expiring.delete(key);
        return this.strings.delete(key) || this.hashes.delete(key) ? 1 : 0;
      default:
        throw new Error(`FakeRedis does not know ${command}`);
    }
  }
}

let lua: LuaEngine;
const redis = new FakeRedis();

beforeAll(async () => {
  lua = await new LuaFactory().createEngine();
  lua.global.set("redis", {
    call: (command: string, key: string, ...args: string[]) => redis.call(command, key, ...args),
  });
});
afterAll(() => lua?.global.close());

/**
 * As ioredis sends them (every argument a string). Synchronously: wasmoon's async doString runs
 * out of memory after a few dozen scripts on one engine.
 */
function runScript(script: string, keys: string[], args: Array<string | number>): unknown[] {
  lua.global.set("KEYS", keys);
  lua.global.set("ARGV", args.map(String));
  return lua.doStringSync(script) as unknown[];
}

function luaTake(key: string, spec: BucketSpec, amount: number, mode: TakeMode) {
  const [allowed, level, retryAfterMs] = runScript(
    TAKE_TOKENS_LUA,
    [key],
    [spec.capacity, spec.refillPerMs, amount, mode],
  );
  return { allowed: allowed === 1, level: Number(level), retryAfterMs };
}

function luaAdmit(checks: AdmissionCheck[]): AdmissionResult {
  const [refused, retryAfterMs, value, held] = runScript(
    ADMIT_LUA,
    checks.flatMap((c) => (c.kind === "bucket" ? [c.key] : [c.key, heldKey(c.key)])),
    checks.flatMap((c) =>
      c.kind === "bucket"
        ? ["bucket", c.spec.capacity, c.spec.refillPerMs, c.amount]
        : ["budget", c.limit, c.amount, c.ttlMs],
    ),
  );
  return refused === 0
    ? { allowed: true }
    : {
        allowed: false,
        refusedBy: (refused as number) - 1,
        retryAfterMs: retryAfterMs as number,
        value: Number(value),
        held: Number(held),
      };
}

function luaSettleBudget(key: string, release: number, spend: number, ttlMs: number): number {
  return Number(runScript(SETTLE_BUDGET_LUA, [key, heldKey(key)], [release, spend, ttlMs]));
}

/** Deterministic pseudo-random numbers, so a failure replays. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

const perMinute = (n: number) => ({ capacity: n, refillPerMs: n / 60_000 });

describe("TAKE_TOKENS_LUA", () => {
  it("decides every step as takeFromBucket does: bursts, refusals, debts, refunds, idle refill, a clock going back", async () => {
    const next = random(7);
    const specs = [perMinute(10), perMinute(100), perMinute(7), { capacity: 3, refillPerMs: 1 / 3_600_000 }];
    for (const [n, spec] of specs.entries()) {
      const key = `take-${n}`;
      let state: BucketState | undefined;
      let now = 1_700_000_000_000;
      for (let step = 0; step < 300; step++) {
        const r = next();
        // Mostly small steps forward; sometimes a long idle time or a clock that goes back.
        now += r < 0.05 ? 600_000 : r < 0.1 ? -2_000 : Math.floor(next() * 3_000);
        const amount =
          next() < 0.15 ? -Math.ceil(next() * spec.capacity) : Math.ceil(next() * spec.capacity * 1.5);
        const mode: TakeMode = next() < 0.2 ? "force" : "try";
        const expected = takeFromBucket(state, spec, amount, mode, now);
        state = expected.state;
        redis.now = now;
        expect(luaTake(key, spec, amount, mode), `step ${step} of ${key}`).toEqual(expected.result);
      }
    }
  });
});

describe("ADMIT_LUA", () => {
  it("admits, refuses and settles exactly as MemorySharedState: first refusal named, nothing taken or held when refused", async () => {
    const next = random(11);
    const clock = { now: 1_700_000_000_000 };
    const memory = new MemorySharedState({ now: () => clock.now });
    const rpm = perMinute(5);
    const tpm = perMinute(300);
    const ttlMs = 1e12;
    const inFlight: number[] = [];
    const outcomes = new Set<string>();
    for (let step = 0; step < 400; step++) {
      clock.now += Math.floor(next() * 4_000);
      redis.now = clock.now;
      // Requests in flight settle now and then: their hold given back, what they cost spent.
      while (inFlight.length > 0 && next() < 0.4) {
        const release = inFlight.shift()!;
        const spend = next() < 0.2 ? 0 : Math.round(next() * release * 1.2 * 1000) / 1000;
        const expected = await memory.settleBudget("spend", release, spend, ttlMs);
        expect(luaSettleBudget("spend", release, spend, ttlMs), `settle at step ${step}`).toBeCloseTo(
          expected,
          12,
        );
      }
      const cost = Math.round(next() * 300) / 1000;
      const checks: AdmissionCheck[] = [
        { kind: "bucket", key: "rpm", spec: rpm, amount: 1 },
        { kind: "bucket", key: "tpm", spec: tpm, amount: Math.ceil(next() * 200) },
        { kind: "budget", key: "spend", limit: 2, amount: cost, ttlMs },
      ];
      const expected = await memory.admit(checks);
      outcomes.add(expected.allowed ? "admitted" : `refused by ${expected.refusedBy}`);
      const fromLua = luaAdmit(checks);
      expect(fromLua.allowed, `step ${step}`).toBe(expected.allowed);
      if (!fromLua.allowed && !expected.allowed) {
        expect(fromLua.refusedBy).toBe(expected.refusedBy);
        expect(fromLua.retryAfterMs).toBe(expected.retryAfterMs);
        expect(fromLua.value).toBeCloseTo(expected.value, 12);
        expect(fromLua.held).toBeCloseTo(expected.held, 12);
      }
      if (expected.allowed) inFlight.push(cost);
      // The buckets were left alike too, whether the step took from them or not.
      for (const [key, spec] of [["rpm", rpm] as const, ["tpm", tpm] as const]) {
        expect(luaTake(key, spec, 0, "try")).toEqual(await memory.takeTokens(key, spec, 0, "try"));
      }
    }
    // The sequence exercised every outcome, so the comparison means something.
    expect([...outcomes].sort()).toEqual(["admitted", "refused by 0", "refused by 1", "refused by 2"]);
  });

  it("refuses a spent budget with its spend, and admits when no key has been written yet", async () => {
    redis.strings.set("full", "0.011");
    expect(luaAdmit([{ kind: "budget", key: "full", limit: 0.01, amount: 0, ttlMs: 1000 }])).toEqual({
      allowed: false,
      refusedBy: 0,
      retryAfterMs: 0,
      value: 0.011,
      held: 0,
    });
    expect(
      luaAdmit([
        { kind: "bucket", key: "fresh-bucket", spec: perMinute(1), amount: 1 },
        { kind: "budget", key: "fresh-counter", limit: 0.01, amount: 0.01, ttlMs: 1000 },
      ]),
    ).toEqual({ allowed: true });
    expect(redis.strings.get(heldKey("fresh-counter"))).toBe("0.01");
  });
});
