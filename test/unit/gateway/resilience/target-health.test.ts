import { describe, expect, it } from "vitest";
import { TargetHealth } from "../../../../src/gateway/resilience/target-health.js";

describe("TargetHealth", () => {
  it("is unknown before any request outcome or probe", () => {
    const h = new TargetHealth();
    h.recordNeutral();
    expect(h.health("closed", false, 3)).toBe("unknown");
    expect(h.health("open", false, 3)).toBe("unhealthy");
  });

  it("is healthy after successes, degraded after a failure, unhealthy after failureThreshold in a row", () => {
    const h = new TargetHealth();
    h.recordSuccess(100, 1);
    expect(h.health("closed", false, 3)).toBe("healthy");
    h.recordFailure("upstream_unavailable", 2);
    expect(h.health("closed", false, 3)).toBe("degraded");
    h.recordFailure("timeout", 3);
    h.recordProbe("upstream_unavailable", 4);
    expect(h.consecutiveFailures).toBe(3);
    expect(h.health("closed", false, 3)).toBe("unhealthy");
    expect(h.lastErrorClass).toBe("upstream_unavailable");
    expect(h.lastProbeTime).toBe(4);
  });

  it("stays degraded while a fifth of the recent outcomes failed, even between successes", () => {
    const h = new TargetHealth();
    for (let i = 0; i < 16; i++) h.recordSuccess(10, i);
    for (let i = 0; i < 4; i++) {
      h.recordFailure("upstream_unavailable", 100 + i);
      h.recordSuccess(10, 200 + i);
    }
    // Last 20 outcomes: 4 failures.
    expect(h.consecutiveFailures).toBe(0);
    expect(h.health("closed", false, 3)).toBe("degraded");
    for (let i = 0; i < 20; i++) h.recordSuccess(10, 300 + i);
    expect(h.health("closed", false, 3)).toBe("healthy");
  });

  it("forgets failures older than the window, however few outcomes came since", () => {
    const h = new TargetHealth();
    // An outage on an idle target probed every 30 s: 6 failed probes, then 1 passing one.
    for (let i = 0; i < 6; i++) h.recordProbe("upstream_unavailable", i * 30_000);
    h.recordProbe(undefined, 180_000);
    expect(h.health("closed", false, 5, 180_000, 60_000)).toBe("degraded");
    // 60 s after the last failure, nothing of the outage weighs in any more.
    expect(h.health("closed", false, 5, 209_999, 60_000)).toBe("degraded");
    expect(h.health("closed", false, 5, 210_000, 60_000)).toBe("healthy");
  });

  it("treats rate limits as degraded while cooling down, without a failure streak", () => {
    const h = new TargetHealth();
    h.recordSuccess(10, 1);
    h.recordThrottle(2);
    h.recordThrottle(3);
    h.recordThrottle(4);
    expect(h.consecutiveFailures).toBe(0);
    expect(h.failures).toBe(3);
    expect(h.requests).toBe(4);
    expect(h.health("closed", true, 3)).toBe("degraded");
    expect(h.health("closed", false, 3)).toBe("healthy");
  });

  it("reports half-open as degraded, and keeps an EWMA and percentiles of successful latency", () => {
    const h = new TargetHealth();
    for (let i = 1; i <= 100; i++) h.recordSuccess(i, i);
    expect(h.health("half-open", false, 3)).toBe("degraded");
    expect(h.latency.percentile(50)).toBe(50);
    expect(h.latency.percentile(95)).toBe(95);
    expect(h.ewmaMs).toBeGreaterThan(90);
    expect(h.ewmaMs).toBeLessThan(100);
  });
});
