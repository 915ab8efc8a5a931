import type { ErrorClass } from "../../shared/errors.js";
import type { HEALTH_STATES } from "../../shared/schemas/gateway-state.js";
import type { CircuitState } from "./circuit-breaker.js";
import { LatencyWindow } from "./latency-window.js";

export type HealthState = (typeof HEALTH_STATES)[number];

/** Weight of the newest sample in the latency EWMA: about the last ten samples matter. */
const EWMA_ALPHA = 0.2;
/** Outcomes (requests and probes) the failure ratio looks back over. */
const RECENT_OUTCOMES = 20;
/** Share of failures among the recent outcomes from which a target is degraded. */
const DEGRADED_FAILURE_RATIO = 0.2;
/** The circuit breaker's default `windowSeconds`, for callers that do not pass a window. */
const DEFAULT_WINDOW_MS = 60_000;

/**
 * Passive and active evidence about one (provider, model): request outcomes, probe results and
 * latency. `health()` turns it into one word:
 *
 * - `unknown`   no request outcome and no probe result yet;
 * - `unhealthy` the circuit is open, or `failureThreshold` failures in a row (requests and
 *               probes together; rate limits and client errors do not count);
 * - `degraded`  the circuit is half-open, a Retry-After cool-down is running, the last outcome
 *               was a failure, or at least 20% of the last 20 outcomes failed, counting only
 *               outcomes younger than the window (the circuit breaker's `windowSeconds`): an idle
 *               target probed every 30 s would otherwise carry an old outage's failures for minutes;
 * - `healthy`   otherwise.
 */
export class TargetHealth {
  requests = 0;
  /** Attempts the upstream did not serve: outages, refusals of the gateway and rate limits. */
  failures = 0;
  consecutiveFailures = 0;
  lastErrorClass: ErrorClass | undefined;
  lastProbeTime: number | undefined;
  /** Epoch ms of the last sample: undefined means the state is unknown. */
  lastSignalAt: number | undefined;
  ewmaMs: number | undefined;
  readonly latency = new LatencyWindow();
  /** Ring of recent outcomes, 1 for a failure, and when each happened (epoch ms). */
  private readonly recent = new Uint8Array(RECENT_OUTCOMES);
  private readonly recentAt = new Float64Array(RECENT_OUTCOMES);
  private recentNext = 0;
  private recentCount = 0;

  recordSuccess(latencyMs: number, now: number): void {
    this.requests++;
    this.consecutiveFailures = 0;
    this.ewmaMs =
      this.ewmaMs === undefined ? latencyMs : this.ewmaMs + EWMA_ALPHA * (latencyMs - this.ewmaMs);
    this.latency.add(latencyMs);
    this.pushOutcome(0, now);
  }

  /** An outage or a refusal of the gateway (outcome-kind.ts). */
  recordFailure(errorClass: ErrorClass, now: number): void {
    this.requests++;
    this.failures++;
    this.consecutiveFailures++;
    this.lastErrorClass = errorClass;
    this.pushOutcome(1, now);
  }

  /** Rate limited: counted and named, but saturation is not breakage, so no streak or ratio. */
  recordThrottle(now: number): void {
    this.requests++;
    this.failures++;
    this.lastErrorClass = "rate_limit";
    this.lastSignalAt = now;
  }

  /** The attempt ended for reasons that say nothing about the upstream. */
  recordNeutral(): void {
    this.requests++;
  }

  recordProbe(error: ErrorClass | undefined, now: number): void {
    this.lastProbeTime = now;
    if (error === undefined) {
      this.consecutiveFailures = 0;
      this.pushOutcome(0, now);
      return;
    }
    this.consecutiveFailures++;
    this.lastErrorClass = error;
    this.pushOutcome(1, now);
  }

  /** `windowMs`: how long an outcome counts towards the failure ratio. */
  health(
    circuit: CircuitState,
    throttled: boolean,
    failureThreshold: number,
    now: number = this.lastSignalAt ?? 0,
    windowMs: number = DEFAULT_WINDOW_MS,
  ): HealthState {
    if (circuit === "open") return "unhealthy";
    if (this.lastSignalAt === undefined) return circuit === "half-open" ? "degraded" : "unknown";
    if (this.consecutiveFailures >= failureThreshold) return "unhealthy";
    if (circuit === "half-open" || throttled || this.consecutiveFailures > 0) return "degraded";
    let counted = 0;
    let failed = 0;
    for (let i = 0; i < this.recentCount; i++) {
      if (now - this.recentAt[i]! >= windowMs) continue;
      counted++;
      failed += this.recent[i]!;
    }
    if (counted > 0 && failed / counted >= DEGRADED_FAILURE_RATIO) return "degraded";
    return "healthy";
  }

  private pushOutcome(failed: 0 | 1, now: number): void {
    if (this.recentCount < RECENT_OUTCOMES) this.recentCount++;
    this.recent[this.recentNext] = failed;
    this.recentAt[this.recentNext] = now;
    this.recentNext = (this.recentNext + 1) % RECENT_OUTCOMES;
    this.lastSignalAt = now;
  }
}
