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

  it("adds to counters that restart from zero after their ttl", async () => {
    const c = clock();
    const state = new MemorySharedState({ now: c.fn });
    expect(await state.addToCounter("spend", 0.25, 10_000)).toBe(0.25);
    expect(await state.addToCounter("spend", 0.5, 10_000)).toBe(0.75);
    expect(await state.addToCounter("spend", 0, 10_000)).toBe(0.75);
    c.now = 10_000;
    expect(await state.addToCounter("spend", 0, 10_000)).toBe(0);
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
