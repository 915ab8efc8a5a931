import { describe, expect, it } from "vitest";
import { MemorySharedState } from "../../../../src/gateway/shared-state/memory-shared-state.js";

function clock(start = 0) {
  const c = { now: start, fn: () => c.now };
  return c;
}

describe("MemorySharedState", () => {
  it("hands out at most max leases and frees a slot on release", async () => {
    const state = new MemorySharedState();
    const a = await state.acquireLease("k", 2, 60_000);
    const b = await state.acquireLease("k", 2, 60_000);
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(await state.acquireLease("k", 2, 60_000)).toBeUndefined();
    await state.releaseLease("k", a!);
    expect(await state.acquireLease("k", 2, 60_000)).toBeDefined();
  });

  it("frees a lease whose holder never released it once its ttl passes", async () => {
    const c = clock();
    const state = new MemorySharedState({ now: c.fn });
    await state.acquireLease("k", 1, 1_000);
    expect(await state.acquireLease("k", 1, 1_000)).toBeUndefined();
    c.now = 1_000;
    expect(await state.acquireLease("k", 1, 1_000)).toBeDefined();
  });

  it("holds budgets for requests in flight and settles them into spend that restarts after its ttl", async () => {
    const c = clock();
    const state = new MemorySharedState({ now: c.fn });
    const hold = (amount: number) =>
      state.admit([{ kind: "budget", key: "spend", limit: 1, amount, ttlMs: 10_000 }]);
    expect(await hold(0.5)).toEqual({ allowed: true });
    expect(await hold(0.5)).toEqual({ allowed: true });
    expect(await hold(0.25)).toEqual({ allowed: false, refusedBy: 0, retryAfterMs: 0, value: 0, held: 1 });
    expect(await state.settleBudget("spend", 0.5, 0.125, 10_000)).toBe(0.125);
    expect(await hold(0.25)).toEqual({ allowed: true });
    // A release of more than is held (a hold Redis never recorded) leaves nothing held, not less.
    expect(await state.settleBudget("spend", 5, 0, 10_000)).toBe(0.125);
    expect(await hold(0.875)).toEqual({ allowed: true });
    c.now = 10_000;
    expect(await state.settleBudget("spend", 0, 0, 10_000)).toBe(0);
  });

  it("admits all or nothing: a refusal names the first check that failed and takes from no bucket", async () => {
    const c = clock();
    const state = new MemorySharedState({ now: c.fn });
    const spec = { capacity: 10, refillPerMs: 10 / 60_000 };
    await state.settleBudget("spend", 0, 0.5, 60_000);
    const checks = (tokens: number, limit: number) =>
      [
        { kind: "bucket", key: "requests", spec, amount: 1 },
        { kind: "bucket", key: "tokens", spec, amount: tokens },
        { kind: "budget", key: "spend", limit, amount: 0.25, ttlMs: 60_000 },
      ] as const;
    expect(await state.admit(checks(4, 1))).toEqual({ allowed: true });
    expect(await state.admit(checks(8, 1))).toEqual({
      allowed: false,
      refusedBy: 1,
      retryAfterMs: 12_000,
      value: 6,
      held: 0,
    });
    expect(await state.admit(checks(1, 0.5))).toEqual({
      allowed: false,
      refusedBy: 2,
      retryAfterMs: 0,
      value: 0.5,
      held: 0.25,
    });
    // Only the admitted request was taken: 9 requests and 6 tokens are left, $0.25 held.
    expect((await state.takeTokens("requests", spec, 0, "try")).level).toBe(9);
    expect((await state.takeTokens("tokens", spec, 0, "try")).level).toBe(6);
    c.now = 60_000;
    expect(await state.admit(checks(1, 0.5))).toEqual({ allowed: true });
  });

  it("expires cached values after their ttl", async () => {
    const c = clock();
    const state = new MemorySharedState({ now: c.fn });
    await state.cacheSet("a", "value", 500);
    expect(await state.cacheGet("a")).toBe("value");
    c.now = 500;
    expect(await state.cacheGet("a")).toBeUndefined();
  });
});
