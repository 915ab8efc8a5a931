import { describe, expect, it } from "vitest";
import {
  CircuitBreaker,
  type CircuitState,
  type Permit,
} from "../../../../src/gateway/resilience/circuit-breaker.js";

const SETTINGS = { failureThreshold: 3, windowSeconds: 10, openSeconds: 5, halfOpenRequests: 2 };

function breaker(settings = SETTINGS) {
  const transitions: Array<[CircuitState, number]> = [];
  const b = new CircuitBreaker(settings, 0, (to, at) => transitions.push([to, at]));
  return { b, transitions };
}

function permit(b: CircuitBreaker, now: number): Permit {
  const admission = b.tryAcquire(now);
  if (!admission.admitted) throw new Error(`refused: ${admission.reason}`);
  return admission.permit;
}

describe("CircuitBreaker", () => {
  it("opens after failureThreshold failures within the window, not before", () => {
    const { b, transitions } = breaker();
    b.recordFailure(permit(b, 1000), 1000);
    b.recordFailure(permit(b, 2000), 2000);
    expect(b.state(2000)).toBe("closed");
    b.recordFailure(permit(b, 3000), 3000);
    expect(b.state(3000)).toBe("open");
    expect(transitions).toEqual([["open", 3000]]);
    expect(b.tryAcquire(3500)).toEqual({ admitted: false, reason: "open", retryAt: 8000 });
  });

  it("forgets failures older than the window", () => {
    const { b } = breaker();
    b.recordFailure(permit(b, 0), 0);
    b.recordFailure(permit(b, 1000), 1000);
    b.recordFailure(permit(b, 10_500), 10_500); // the one at 0 is out of the 10 s window
    expect(b.state(10_500)).toBe("closed");
    b.recordFailure(permit(b, 10_900), 10_900);
    expect(b.state(10_900)).toBe("open");
  });

  it("goes half-open after openSeconds and admits halfOpenRequests trials at a time", () => {
    const { b, transitions } = breaker();
    for (const t of [0, 1, 2]) b.recordFailure(permit(b, t), t);
    expect(b.state(4999)).toBe("open");
    expect(b.state(5002)).toBe("half-open");
    expect(b.since(5002)).toBe(5002);
    const first = permit(b, 5100);
    const second = permit(b, 5100);
    expect(first.trial && second.trial).toBe(true);
    expect(b.tryAcquire(5100)).toMatchObject({ admitted: false, reason: "busy" });
    expect(transitions.map(([to]) => to)).toEqual(["open", "half-open"]);
  });

  it("closes on a successful trial", () => {
    const { b } = breaker();
    for (const t of [0, 1, 2]) b.recordFailure(permit(b, t), t);
    const trial = permit(b, 6000);
    b.recordSuccess(trial, 6100);
    expect(b.state(6100)).toBe("closed");
    expect(b.since(6100)).toBe(6100);
    // A fresh window: it takes the full threshold to open again.
    b.recordFailure(permit(b, 6200), 6200);
    b.recordFailure(permit(b, 6300), 6300);
    expect(b.state(6300)).toBe("closed");
  });

  it("opens again on a failed trial, for another openSeconds", () => {
    const { b, transitions } = breaker();
    for (const t of [0, 1, 2]) b.recordFailure(permit(b, t), t);
    const trial = permit(b, 6000);
    b.recordFailure(trial, 6500);
    expect(b.state(6500)).toBe("open");
    expect(b.tryAcquire(11_000)).toMatchObject({ admitted: false, reason: "open", retryAt: 11_500 });
    expect(b.state(11_500)).toBe("half-open");
    expect(transitions.map(([to]) => to)).toEqual(["open", "half-open", "open", "half-open"]);
  });

  it("gives the trial slot back when the outcome says nothing about the upstream", () => {
    const { b } = breaker({ ...SETTINGS, halfOpenRequests: 1 });
    for (const t of [0, 1, 2]) b.recordFailure(permit(b, t), t);
    const trial = permit(b, 6000);
    expect(b.tryAcquire(6000).admitted).toBe(false);
    b.release(trial, 6100);
    expect(b.state(6100)).toBe("half-open");
    expect(b.tryAcquire(6100).admitted).toBe(true);
  });

  it("does not let a trial from an earlier half-open period decide a later one", () => {
    const { b } = breaker({ ...SETTINGS, halfOpenRequests: 2 });
    for (const t of [0, 1, 2]) b.recordFailure(permit(b, t), t);
    const late = permit(b, 6000);
    b.recordFailure(permit(b, 6000), 6001); // re-opens until 11 001
    expect(b.state(11_001)).toBe("half-open");
    b.recordSuccess(late, 11_002); // answer from the previous period
    expect(b.state(11_002)).toBe("half-open");
  });

  it("never opens on rate limits; a Retry-After sets the target aside for that long, capped at openSeconds", () => {
    const { b } = breaker();
    for (const t of [0, 1, 2, 3]) b.recordThrottle(permit(b, t), t, undefined);
    expect(b.state(3)).toBe("closed");
    expect(b.tryAcquire(4).admitted).toBe(true);
    b.recordThrottle(permit(b, 10), 10, 2);
    expect(b.tryAcquire(1000)).toEqual({ admitted: false, reason: "throttled", retryAt: 2010 });
    expect(b.tryAcquire(1000, true).admitted).toBe(true);
    expect(b.tryAcquire(2010).admitted).toBe(true);
    b.recordThrottle(permit(b, 3000), 3000, 3600);
    expect(b.tryAcquire(7999)).toMatchObject({ reason: "throttled", retryAt: 8000 });
    expect(b.state(7999)).toBe("closed");
  });

  it("applies new settings without losing its state", () => {
    const { b } = breaker();
    b.recordFailure(permit(b, 0), 0);
    b.recordFailure(permit(b, 1), 1);
    b.updateSettings({ ...SETTINGS, failureThreshold: 2 });
    b.recordFailure(permit(b, 2), 2);
    expect(b.state(2)).toBe("open");
  });

  it("opens on failed probes alone, so an idle target whose upstream is down shows it", () => {
    const { b, transitions } = breaker();
    b.recordProbe("outage", 1000);
    b.recordProbe("outage", 2000);
    b.recordProbe("success", 2500);
    expect(b.state(2500)).toBe("closed");
    b.recordProbe("outage", 3000);
    expect(b.state(3000)).toBe("open");
    b.recordProbe("success", 4000); // open waits out openSeconds whatever the probes say
    expect(b.state(4000)).toBe("open");
    expect(transitions).toEqual([["open", 3000]]);
  });

  it("lets a probe decide a half-open circuit like a trial request", () => {
    const { b, transitions } = breaker();
    for (const at of [0, 1, 2]) b.recordFailure(permit(b, at), at);
    b.recordProbe("outage", 6000); // half-open since 5002: a failed probe re-opens
    expect(b.state(6000)).toBe("open");
    const trial = permit(b, 11_500);
    b.recordProbe("success", 11_600);
    expect(b.state(11_600)).toBe("closed");
    b.recordFailure(trial, 11_700); // the trial of a period already decided cannot re-open
    expect(b.state(11_700)).toBe("closed");
    expect(transitions.map(([to]) => to)).toEqual(["open", "half-open", "open", "half-open", "closed"]);
  });
});
