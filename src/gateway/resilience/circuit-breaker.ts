import type { CompiledProvider } from "../../shared/schemas/gateway-config.js";

export type CircuitSettings = CompiledProvider["circuitBreaker"];
export type CircuitState = "closed" | "open" | "half-open";

/** Leave to call the upstream once; hand it back through exactly one record or release call. */
export interface Permit {
  /** A half-open trial request: its outcome closes or re-opens the circuit. */
  readonly trial: boolean;
  /** Which half-open period a trial belongs to, so a late answer cannot decide a later one. */
  readonly period: number;
}

export type Admission =
  | { admitted: true; permit: Permit }
  | {
      admitted: false;
      /** open: the circuit is open; busy: half-open with all trial slots taken; throttled: the upstream's Retry-After has not passed. */
      reason: "open" | "busy" | "throttled";
      /** Epoch ms when the target may admit requests again. */
      retryAt: number;
    };

export type TransitionListener = (to: CircuitState, at: number) => void;

const PERMIT: Permit = { trial: false, period: 0 };

/**
 * Circuit breaker for one (provider, model): closed → open after `failureThreshold` outage
 * failures within `windowSeconds` → half-open once `openSeconds` have passed, admitting
 * `halfOpenRequests` trial requests at a time → closed on the first successful trial, open again
 * on a failed one. Time is passed in (epoch ms) so tests drive it with a fake clock; the
 * open → half-open step happens lazily when the state is next read.
 *
 * Rate limits do not open it: a Retry-After only cools the target down for that long (capped at
 * `openSeconds`), so requests go elsewhere instead of meeting the same 429 again.
 */
export class CircuitBreaker {
  private current: CircuitState = "closed";
  private enteredAt: number;
  private openUntil = 0;
  private throttledUntil = 0;
  private trialsInFlight = 0;
  private halfOpenPeriod = 0;
  /** Timestamps of outage failures while closed, oldest first, at most failureThreshold of them. */
  private failures: number[] = [];

  constructor(
    private settings: CircuitSettings,
    now: number,
    private readonly onTransition: TransitionListener = () => {},
  ) {
    this.enteredAt = now;
  }

  /** New settings from a config snapshot apply from now on; the state is kept. */
  updateSettings(settings: CircuitSettings): void {
    this.settings = settings;
  }

  state(now: number): CircuitState {
    if (this.current === "open" && now >= this.openUntil) this.enter("half-open", this.openUntil);
    return this.current;
  }

  /** When the circuit entered its current state (epoch ms). */
  since(now: number): number {
    this.state(now);
    return this.enteredAt;
  }

  /** Epoch ms until which a Retry-After keeps the target cooling down (0 or past when not). */
  throttledUntilMs(): number {
    return this.throttledUntil;
  }

  /** `ignoreThrottle`: the caller has already waited out the Retry-After itself (a retry). */
  tryAcquire(now: number, ignoreThrottle = false): Admission {
    const state = this.state(now);
    if (state === "open") return { admitted: false, reason: "open", retryAt: this.openUntil };
    if (!ignoreThrottle && now < this.throttledUntil)
      return { admitted: false, reason: "throttled", retryAt: this.throttledUntil };
    if (state === "half-open") {
      if (this.trialsInFlight >= this.settings.halfOpenRequests) {
        return { admitted: false, reason: "busy", retryAt: now + 1000 };
      }
      this.trialsInFlight++;
      return { admitted: true, permit: { trial: true, period: this.halfOpenPeriod } };
    }
    return { admitted: true, permit: PERMIT };
  }

  recordSuccess(permit: Permit, now: number): void {
    if (this.endTrial(permit, now)) this.close(now);
  }

  /** An outage failure (see outcome-kind.ts). */
  recordFailure(permit: Permit, now: number): void {
    const decides = this.endTrial(permit, now);
    const state = this.state(now);
    if (state === "half-open") {
      if (decides) this.open(now);
      return;
    }
    if (state === "open") return;
    const windowStart = now - this.settings.windowSeconds * 1000;
    this.failures = this.failures.filter((at) => at > windowStart);
    this.failures.push(now);
    if (this.failures.length > this.settings.failureThreshold) this.failures.shift();
    if (this.failures.length >= this.settings.failureThreshold) this.open(now);
  }

  /**
   * An active health probe's verdict. A failed probe counts like a failed request, so an idle
   * target whose upstream is down opens its circuit too; while half-open, a probe decides like
   * a trial request. An open circuit still waits out `openSeconds`.
   */
  recordProbe(outcome: "success" | "outage", now: number): void {
    const state = this.state(now);
    if (outcome === "outage") {
      if (state === "half-open") this.open(now);
      else this.recordFailure(PERMIT, now);
    } else if (state === "half-open") {
      this.close(now);
    }
  }

  /** A rate limit: no circuit change; a Retry-After keeps the target aside for that long. */
  recordThrottle(permit: Permit, now: number, retryAfterSeconds: number | undefined): void {
    this.endTrial(permit, now);
    if (retryAfterSeconds === undefined || retryAfterSeconds <= 0) return;
    const cooldownMs = Math.min(retryAfterSeconds, this.settings.openSeconds) * 1000;
    this.throttledUntil = Math.max(this.throttledUntil, now + cooldownMs);
  }

  /** The attempt says nothing about the upstream (client error, client gone): hand the slot back. */
  release(permit: Permit, now: number): void {
    this.endTrial(permit, now);
  }

  /** Frees the trial slot; true when the permit is a trial of the half-open period in force. */
  private endTrial(permit: Permit, now: number): boolean {
    if (!permit.trial || this.state(now) !== "half-open" || permit.period !== this.halfOpenPeriod)
      return false;
    this.trialsInFlight--;
    return true;
  }

  private close(now: number): void {
    this.failures = [];
    this.enter("closed", now);
  }

  private open(now: number): void {
    this.openUntil = now + this.settings.openSeconds * 1000;
    this.failures = [];
    this.enter("open", now);
  }

  private enter(state: CircuitState, at: number): void {
    if (state === "half-open") {
      this.trialsInFlight = 0;
      this.halfOpenPeriod++;
    }
    this.current = state;
    this.enteredAt = at;
    this.onTransition(state, at);
  }
}
