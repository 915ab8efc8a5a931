import { describe, expect, it } from "vitest";
import { replacementPatch, statusChanged } from "../../../src/operator/status/status-writer.js";

describe("status writes", () => {
  const current = {
    observedGeneration: 1,
    health: "healthy",
    circuit: "closed",
    lastProbeTime: "2026-01-01T00:00:00Z",
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "Published",
        message: "m",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      },
    ],
  };

  it("skips a write when nothing but a recent probe timestamp changed", () => {
    expect(statusChanged(current, { ...current })).toBe(false);
    expect(statusChanged(current, { ...current, lastProbeTime: "2026-01-01T00:00:30Z" })).toBe(false);
    expect(statusChanged(current, { ...current, lastProbeTime: "2026-01-01T00:05:00Z" })).toBe(true);
    expect(statusChanged(current, { ...current, circuit: "open" })).toBe(true);
    expect(statusChanged(undefined, { conditions: [] })).toBe(true);
  });

  it("treats small latency moves as noise and large ones as news", () => {
    const withLatency = { ...current, latency: { p50Ms: 40, p95Ms: 100 } };
    expect(statusChanged(withLatency, { ...withLatency, latency: { p50Ms: 43, p95Ms: 108 } })).toBe(false);
    expect(statusChanged(withLatency, { ...withLatency, latency: { p50Ms: 40, p95Ms: 130 } })).toBe(true);
    expect(statusChanged(withLatency, { ...withLatency, latency: { p50Ms: 40 } })).toBe(true);
  });

  it("builds a merge patch that removes fields the desired status no longer has", () => {
    const patch = replacementPatch(current, { observedGeneration: 2, health: "unknown", conditions: [] });
    expect(patch).toEqual({
      observedGeneration: 2,
      health: "unknown",
      conditions: [],
      circuit: null,
      lastProbeTime: null,
    });
    expect(replacementPatch({ latency: { p50Ms: 1, p95Ms: 2 } }, { latency: { p95Ms: 3 } })).toEqual({
      latency: { p95Ms: 3, p50Ms: null },
    });
  });
});
