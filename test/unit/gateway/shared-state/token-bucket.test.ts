import { describe, expect, it } from "vitest";
import { takeFromBucket, type BucketState } from "../../../../src/gateway/shared-state/token-bucket.js";

const perMinute = (n: number) => ({ capacity: n, refillPerMs: n / 60_000 });

describe("takeFromBucket", () => {
  it("lets a full minute's burst through, then refuses with the time until one more fits", () => {
    const spec = perMinute(10);
    let state: BucketState | undefined;
    for (let i = 0; i < 10; i++) {
      const step = takeFromBucket(state, spec, 1, "try", 1_000);
      expect(step.result.allowed).toBe(true);
      state = step.state;
    }
    const refused = takeFromBucket(state, spec, 1, "try", 1_000);
    expect(refused.result).toMatchObject({ allowed: false, retryAfterMs: 6_000 });
    // One token refills every 6 s.
    expect(takeFromBucket(refused.state, spec, 1, "try", 6_999).result.allowed).toBe(false);
    expect(takeFromBucket(refused.state, spec, 1, "try", 7_000).result.allowed).toBe(true);
  });

  it("never refills beyond capacity however long it sat idle", () => {
    const spec = perMinute(5);
    const empty = takeFromBucket(undefined, spec, 5, "try", 0).state;
    const later = takeFromBucket(empty, spec, 0, "try", 10 * 60_000);
    expect(later.result.level).toBe(5);
  });

  it("admits a request larger than the bucket only when full, leaving a debt paid off by refill", () => {
    const spec = perMinute(100);
    const big = takeFromBucket(undefined, spec, 150, "try", 0);
    expect(big.result).toMatchObject({ allowed: true, level: -50 });
    const next = takeFromBucket(big.state, spec, 10, "try", 0);
    expect(next.result).toMatchObject({ allowed: false, retryAfterMs: 36_000 });
  });

  it("force takes regardless and refunds with negative amounts, capped at capacity", () => {
    const spec = perMinute(10);
    const forced = takeFromBucket(undefined, spec, 25, "force", 0);
    expect(forced.result).toMatchObject({ allowed: true, level: -15 });
    const refunded = takeFromBucket(forced.state, spec, -100, "force", 0);
    expect(refunded.result.level).toBe(10);
  });

  it("ignores a clock that goes backwards instead of draining the bucket", () => {
    const spec = perMinute(10);
    const state = takeFromBucket(undefined, spec, 5, "try", 10_000).state;
    expect(takeFromBucket(state, spec, 0, "try", 5_000).result.level).toBe(5);
  });
});
