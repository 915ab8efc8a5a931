import { GatewayError, isGatewayError, type ErrorClass } from "../../shared/errors.js";
import type { CompiledModel, CompiledProvider, CompiledRoute } from "../../shared/schemas/gateway-config.js";
import type { GatewayRuntime } from "../config/gateway-runtime.js";
import type { CallContext, ProviderAdapter } from "../providers/provider-adapter.js";
import { backoffDelayMs, sleep } from "./backoff.js";
import { describePolicy, residencyAllows } from "./residency-policy.js";

export interface Candidate {
  provider: CompiledProvider;
  model: CompiledModel;
  adapter: ProviderAdapter;
}

export interface AttemptRecord {
  providerId: string;
  model: string;
  errorClass?: ErrorClass;
}

export interface DispatchResult<T> {
  result: T;
  candidate: Candidate;
  attempts: AttemptRecord[];
}

/** Classes that are the client's own mistake: never retried, never failed over. */
const CLIENT_ERRORS: ReadonlySet<ErrorClass> = new Set(["invalid_request", "request_too_large", "content_filter", "policy_violation"]);
const RETRYABLE: ReadonlySet<ErrorClass> = new Set(["rate_limit", "upstream_unavailable", "timeout"]);

/** The route's targets that policy admits, in the strategy's order. */
export function eligibleCandidates(runtime: GatewayRuntime, route: CompiledRoute): Candidate[] {
  const ordered = [...route.targets].sort((a, b) => a.priority - b.priority);
  const candidates: Candidate[] = [];
  for (const target of ordered) {
    const provider = runtime.providers.get(target.providerId);
    const model = runtime.models.get(`${target.providerId}/${target.model}`);
    const adapter = runtime.adapters.get(target.providerId);
    if (!provider || !model || !adapter) continue;
    if (!residencyAllows(route, provider)) continue;
    candidates.push({ provider, model, adapter });
  }
  return candidates;
}

function toGatewayError(err: unknown): GatewayError {
  if (isGatewayError(err)) return err;
  return new GatewayError("internal", "the gateway failed while calling the upstream", { cause: err });
}

function attemptContext(provider: CompiledProvider, clientSignal: AbortSignal): { ctx: CallContext; done(): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new GatewayError("timeout", `${provider.id} exceeded its total deadline of ${provider.timeouts.totalMs} ms`, {
          provider: provider.id,
        }),
      ),
    provider.timeouts.totalMs,
  );
  const onClientAbort = () => controller.abort(clientSignal.reason);
  clientSignal.addEventListener("abort", onClientAbort, { once: true });
  return {
    ctx: { signal: controller.signal, timeouts: provider.timeouts },
    done: () => {
      clearTimeout(timer);
      clientSignal.removeEventListener("abort", onClientAbort);
    },
  };
}

/**
 * Tries the route's eligible targets in order with retries and fallback. `call` performs one
 * attempt and must resolve only once the attempt can no longer fail over (for streams: after the
 * first upstream event). `release` is called when the caller is done with a successful attempt.
 * `attempts` is filled as attempts are made, so callers can account for failed requests too.
 */
export async function dispatch<T>(
  runtime: GatewayRuntime,
  route: CompiledRoute,
  clientSignal: AbortSignal,
  call: (candidate: Candidate, ctx: CallContext) => Promise<T>,
  attempts: AttemptRecord[] = [],
): Promise<DispatchResult<T> & { release(): void }> {
  const candidates = eligibleCandidates(runtime, route);
  if (candidates.length === 0) {
    const policy = describePolicy(route);
    throw new GatewayError(
      "policy_violation",
      policy
        ? `route ${route.id} has no target allowed by its data-residency policy (${policy}); the request was not sent anywhere`
        : `route ${route.id} has no usable target`,
    );
  }
  let lastError: GatewayError | undefined;
  let failedWindow: number | undefined;
  let tried = 0;
  for (const candidate of candidates) {
    if (tried >= route.fallback.maxAttempts) break;
    if (lastError?.errorClass === "context_length_exceeded" && (candidate.model.contextWindow ?? 0) <= (failedWindow ?? 0)) {
      continue;
    }
    tried++;
    for (let retry = 0; ; retry++) {
      const { ctx, done } = attemptContext(candidate.provider, clientSignal);
      const record: AttemptRecord = { providerId: candidate.provider.id, model: candidate.model.name };
      attempts.push(record);
      try {
        const result = await call(candidate, ctx);
        return { result, candidate, attempts, release: done };
      } catch (err) {
        done();
        const error = toGatewayError(err);
        record.errorClass = error.errorClass;
        lastError = error;
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
    if (!(route.fallback.on as readonly string[]).includes(lastError!.errorClass)) throw lastError!;
    failedWindow = candidate.model.contextWindow;
  }
  throw lastError ?? new GatewayError("upstream_unavailable", `route ${route.id} has no target left to try`);
}
