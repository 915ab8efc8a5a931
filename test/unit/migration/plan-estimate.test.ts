import { describe, expect, it } from "vitest";
import { formatDuration } from "../../../src/migration/duration-format.js";
import { estimatePlan, estimateTokens, formatUsd } from "../../../src/migration/plan-estimate.js";
import { ProgressMeter } from "../../../src/migration/progress-meter.js";

describe("plan", () => {
  it("estimates tokens, cost from the input price and duration from the request rate", () => {
    expect(estimateTokens(4_000_001)).toBe(1_000_001);
    expect(
      estimatePlan({
        rows: 100_000,
        estimatedTokens: 21_000_000,
        batchSize: 64,
        requestsPerMinute: 300,
        inputPricePer1M: 0.02,
      }),
    ).toEqual({
      rows: 100_000,
      estimatedTokens: 21_000_000,
      estimatedCostUsd: "0.42",
      estimatedDuration: "5m13s",
    });
  });

  it("leaves out what it cannot know: no price, no rate", () => {
    expect(estimatePlan({ rows: 10, estimatedTokens: 50, batchSize: 64 })).toEqual({
      rows: 10,
      estimatedTokens: 50,
    });
  });

  it("shows small costs with two significant digits instead of 0.00", () => {
    expect([formatUsd(0), formatUsd(0.0000504), formatUsd(0.004), formatUsd(12.345)]).toEqual([
      "0",
      "0.00005",
      "0.004",
      "12.35",
    ]);
  });

  it("formats durations like kubectl ages", () => {
    expect([0, 45_000, 200_000, 3_600_000, 7_500_000].map(formatDuration)).toEqual([
      "0s",
      "45s",
      "3m20s",
      "1h",
      "2h5m",
    ]);
  });
});

describe("ProgressMeter", () => {
  it("measures rows per second over a sliding window and estimates the time left", () => {
    let now = 0;
    const meter = new ProgressMeter(10_000, () => now);
    expect(meter.rowsPerSecond()).toBeUndefined();
    for (let s = 0; s <= 20; s++) {
      now = s * 1000;
      meter.record(s < 10 ? s * 10 : 100 + (s - 10) * 100); // 10 rows/s, then 100 rows/s
    }
    expect(meter.rowsPerSecond()).toBe(100);
    expect(meter.eta(6_000)).toBe("1m");
    expect(meter.eta(0)).toBe("0s");
  });
});
