import { describe, expect, it } from "vitest";
import { RateLimiter } from "../../../src/migration/rate-limiter.js";

describe("RateLimiter", () => {
  it("spaces request starts evenly at the rate, without bursts", () => {
    let now = 1_000;
    const limiter = new RateLimiter(120, () => now);
    expect([limiter.reserve(), limiter.reserve(), limiter.reserve()]).toEqual([0, 500, 1000]);
    now += 5_000; // idle time does not bank a burst
    expect([limiter.reserve(), limiter.reserve()]).toEqual([0, 500]);
  });

  it("is unlimited without a rate and follows a rate change", () => {
    let now = 0;
    const limiter = new RateLimiter(undefined, () => now);
    expect([limiter.reserve(), limiter.reserve()]).toEqual([0, 0]);
    limiter.setRate(60);
    now = 10;
    expect([limiter.reserve(), limiter.reserve()]).toEqual([0, 1000]);
  });
});
