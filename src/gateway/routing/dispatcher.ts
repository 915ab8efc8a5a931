import { GatewayError, isGatewayError, type ErrorClass } from "../../shared/errors.js";
import type { CompiledProvider, CompiledRoute } from "../../shared/schemas/gateway-config.js";
import type { GatewayRuntime } from "../config/gateway-runtime.js";
import type { GatewayMetrics } from "../metrics.js";
import type { CallContext } from "../providers/provider-adapter.js";
import { PoolExhaustedError } from "../providers/pool-exhausted-error.js";
import { LimitExceededError } from "../limits/limit-exceeded-error.js";
import type { Admission } from "../resilience/circuit-breaker.js";
import { outcomeKind, type OutcomeKind } from "../resilience/outcome-kind.js";
import type { TargetStates } from "../resilience/target-states.js";
import { backoffDelayMs, sleep } from "./backoff.js";
import type { Candidate } from "./candidate.js";
import type { RequestNeeds } from "./request-needs.js";
import { describePolicy } from "../../shared/residency-policy.js";
import type { RoutePlanner } from "./route-planner.js";

export interface AttemptRecord {
  providerId: string;
  model: string;
  errorClass?: ErrorClass;
}

export interface DispatchResult<T> {
  result: T;
  candidate: Candidate;
  attempts: AttemptRecord[];
  /** Call when done with the successful attempt: clears its total deadline. */
  release(): void;
  /**
   * A stream that had started failed later (no failover is possible any more): the failure still
   * counts against the target's circuit and health.
   */
  recordStreamFailure(error: unknown): void;
}

export interface DispatchDeps {
  planner: RoutePlanner;
  states: TargetStates;
  metrics?: GatewayMetrics;
}

/** Classes that are the client's own mistake: never retried, never failed over. */
const CLIENT_ERRORS: ReadonlySet<ErrorClass> = new Set([
  "invalid_request",
  "request_too_large",
  "content_filter",
  "policy_violation",
]);
const RETRYABLE: ReadonlySet<ErrorClass> = new Set(["rate_limit", "upstream_unavailable", "timeout"]);

type Refusal = Extract<Admission, { admitted: false }>;

/**
 * What a failed attempt says about its target. Nothing when the client went away or the
 * gateway's own limits or connection pool refused the call before any upstream was contacted.
 */
function kindOf(error: GatewayError, clientSignal: AbortSignal): OutcomeKind {
  if (clientSignal.aborted || error instanceof LimitExceededError || error instanceof PoolExhaustedError)
    return "neutral";
  return outcomeKind(error.errorClass);
}

function toGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  return new GatewayError("internal", "the gateway failed while calling the upstream", { cause: err });
}

function attemptContext(
  provider: CompiledProvider,
  clientSignal: AbortSignal,
): { ctx: CallContext; done(): void; fail(reason: GatewayError): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new GatewayError(
          "timeout",
          `${provider.id} exceeded its total deadline of ${provider.timeouts.totalMs} ms`,
          {
            provider: provider.id,
          },
        ),
      ),
    provider.timeouts.totalMs,
  );
  const onClientAbort = () => controller.abort(clientSignal.reason);
  clientSignal.addEventListener("abort", onClientAbort, { once: true });
  const done = () => {
    clearTimeout(timer);
    clientSignal.removeEventListener("abort", onClientAbort);
  };
  return {
    ctx: { signal: controller.signal, timeouts: provider.timeouts },
    done,
    // A failed attempt is abandoned: cancel whatever of it is still in flight upstream.
    fail: (reason) => {
      done();
      controller.abort(reason);
    },
  };
}

const REFUSAL_TEXT: Record<Refusal["reason"], string> = {
  open: "circuit open",
  busy: "circuit half-open with its trial requests in flight",
  throttled: "rate-limited by the upstream",
};

/** Every allowed target was set aside by its circuit or a Retry-After: fail fast, saying until when. */
function nothingAdmitted(
  route: CompiledRoute,
  refused: Array<{ candidate: Candidate; refusal: Refusal }>,
  now: number,
): GatewayError {
  const soonest = Math.min(...refused.map((r) => r.refusal.retryAt));
  const retryAfterSeconds = Math.max(1, Math.ceil((soonest - now) / 1000));
  const details = refused
    .map(
      ({ candidate, refusal }) =>
        `${candidate.key} ${REFUSAL_TEXT[refusal.reason]} (for ${Math.max(1, Math.ceil((refusal.retryAt - now) / 1000))} s)`,
    )
    .join("; ");
  const allThrottled = refused.every((r) => r.refusal.reason === "throttled");
  const policy = describePolicy(route);
  const outsidePolicy = policy
    ? `; targets outside its data-residency policy (${policy}) are never used`
    : "";
  return new GatewayError(
    allThrottled ? "rate_limit" : "upstream_unavailable",
    `route ${route.id} has no target that can take the request now: ${details}; retry after ${retryAfterSeconds} s${outsidePolicy}`,
    { retryAfterSeconds },
  );
}

/**
 * Tries the planned targets in order with retries and fallback. `call` performs one attempt and
 * must resolve only once the attempt can no longer fail over (for streams: after the first
 * upstream event). Before each attempt the target's circuit must admit it: open circuits and
 * Retry-After cool-downs are skipped without counting as attempts. Client mistakes are never
 * retried or failed over; other failures move on only if the route's `fallback.on` names their
 * class, and after context_length_exceeded only to targets with a larger window. `attempts` is
 * filled as attempts are made, so callers can account for failed requests too.
 */
export async function dispatch<T>(
  deps: DispatchDeps,
  runtime: GatewayRuntime,
  route: CompiledRoute,
  needs: RequestNeeds,
  clientSignal: AbortSignal,
  call: (candidate: Candidate, ctx: CallContext) => Promise<T>,
  attempts: AttemptRecord[] = [],
): Promise<DispatchResult<T>> {
  const { states, metrics } = deps;
  const candidates = deps.planner.plan(runtime, route, needs);
  const refused: Array<{ candidate: Candidate; refusal: Refusal }> = [];
  let lastError: GatewayError | undefined;
  let lastCandidate: Candidate | undefined;
  let failedWindow: number | undefined;
  let tried = 0;
  for (const candidate of candidates) {
    if (tried >= route.fallback.maxAttempts) break;
    if (
      lastError?.errorClass === "context_length_exceeded" &&
      (candidate.model.contextWindow ?? 0) <= (failedWindow ?? 0)
    ) {
      continue;
    }
    const state = states.get(candidate.provider, candidate.model);
    let attempted = false;
    for (let retry = 0; ; retry++) {
      // A retry has already waited out the Retry-After this target asked for.
      const admission = state.breaker.tryAcquire(states.clock(), retry > 0);
      if (!admission.admitted) {
        if (!attempted) {
          refused.push({ candidate, refusal: admission });
          metrics?.skippedTargets.inc({
            route: route.id,
            provider: candidate.provider.id,
            model: candidate.model.name,
            reason: admission.reason,
          });
        }
        break;
      }
      if (!attempted) {
        attempted = true;
        tried++;
        if (lastError && lastCandidate) {
          metrics?.failovers.inc({
            route: route.id,
            provider: lastCandidate.provider.id,
            model: lastCandidate.model.name,
            error_class: lastError.errorClass,
          });
        }
      } else {
        metrics?.retries.inc({
          route: route.id,
          provider: candidate.provider.id,
          model: candidate.model.name,
          error_class: lastError!.errorClass,
        });
      }
      const { ctx, done, fail } = attemptContext(candidate.provider, clientSignal);
      const record: AttemptRecord = { providerId: candidate.provider.id, model: candidate.model.name };
      attempts.push(record);
      const startedAt = performance.now();
      try {
        const result = await call(candidate, ctx);
        states.recordSuccess(state, admission.permit, performance.now() - startedAt);
        return {
          result,
          candidate,
          attempts,
          release: done,
          recordStreamFailure: (err) => {
            const error = toGatewayError(err);
            states.recordError(
              state,
              admission.permit,
              kindOf(error, clientSignal),
              error.errorClass,
              error.retryAfterSeconds,
            );
          },
        };
      } catch (err) {
        const error = toGatewayError(err);
        fail(error);
        record.errorClass = error.errorClass;
        lastError = error;
        lastCandidate = candidate;
        states.recordError(
          state,
          admission.permit,
          kindOf(error, clientSignal),
          error.errorClass,
          error.retryAfterSeconds,
        );
        if (clientSignal.aborted) throw error;
        if (CLIENT_ERRORS.has(error.errorClass)) throw error;
        if (!RETRYABLE.has(error.errorClass) || retry >= route.retries.attempts) break;
        const retryAfterMs = (error.retryAfterSeconds ?? 0) * 1000;
        if (route.retries.respectRetryAfter && retryAfterMs > route.retries.maxBackoffMs) break;
        const delay = Math.max(
          route.retries.respectRetryAfter ? retryAfterMs : 0,
          backoffDelayMs(retry, route.retries.backoffMs, route.retries.maxBackoffMs),
        );
        await sleep(delay, clientSignal);
      }
    }
    if (!attempted) continue;
    if (!(route.fallback.on as readonly string[]).includes(lastError!.errorClass)) throw lastError!;
    failedWindow = candidate.model.contextWindow;
  }
  if (lastError) throw lastError;
  if (refused.length > 0) throw nothingAdmitted(route, refused, states.clock());
  throw new GatewayError("upstream_unavailable", `route ${route.id} has no target left to try`);
}
