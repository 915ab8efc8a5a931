import type { ErrorClass } from "../../shared/errors.js";

/**
 * What one upstream attempt says about the target, which decides how it feeds the circuit
 * breaker and health:
 * - `outage`: the upstream could not serve (unreachable, 5xx, overloaded, deadline passed).
 *   Counts toward opening the circuit and against health.
 * - `misconfigured`: the upstream answered but refuses this gateway (credentials, permission,
 *   unknown model). Counts against health only: an open circuit would not fix it and would hide
 *   the real message behind "circuit open".
 * - `throttled`: a rate limit. Saturation, not breakage: it never opens the circuit; with a
 *   Retry-After it cools the target down for that long (see CircuitBreaker.recordThrottle).
 * - `neutral`: the client's own mistake or a refusal on content. The upstream did its job.
 */
export type OutcomeKind = "outage" | "misconfigured" | "throttled" | "neutral";

const KIND_BY_CLASS: Record<ErrorClass, OutcomeKind> = {
  upstream_unavailable: "outage",
  timeout: "outage",
  authentication: "misconfigured",
  permission: "misconfigured",
  model_not_found: "misconfigured",
  not_found: "misconfigured",
  rate_limit: "throttled",
  invalid_request: "neutral",
  request_too_large: "neutral",
  request_timeout: "neutral",
  context_length_exceeded: "neutral",
  content_filter: "neutral",
  policy_violation: "neutral",
  // A gateway bug says nothing about the upstream.
  internal: "neutral",
};

export function outcomeKind(errorClass: ErrorClass): OutcomeKind {
  return KIND_BY_CLASS[errorClass];
}
