import type { ServerResponse } from "node:http";
import type { Usage } from "../canonical/chat.js";
import type { GatewayError } from "../../shared/errors.js";
import type { AttemptRecord } from "../routing/dispatcher.js";
import type { Candidate } from "../routing/candidate.js";
import { LimitExceededError } from "../limits/limit-exceeded-error.js";
import type { GatewayDeps } from "./request-context.js";

/** What one client request came to: the source of its metrics and its access-log line. */
export interface Outcome {
  api: string;
  /** GenAI operation name; embeddings have no output tokens to report. */
  operation: "chat" | "embeddings";
  routeId?: string;
  candidate?: Candidate;
  attempts: AttemptRecord[];
  usage?: Usage;
  error?: GatewayError;
  startedAt: number;
  firstTokenAt?: number;
  stream: boolean;
  consumer?: string;
  costUsd?: number;
  cache?: "hit" | "miss";
  /** When the first upstream call started, and time spent waiting on upstreams since. */
  upstreamStartedAt?: number;
  upstreamMs: number;
  /** Number of texts embedded (embeddings only). */
  inputs?: number;
}

const arrivals = new WeakMap<ServerResponse, number>();

/** Stamps when the request behind `res` arrived (its headers parsed), before its body is read. */
export function markArrival(res: ServerResponse): void {
  arrivals.set(res, performance.now());
}

/** When the request behind `res` arrived; now, for a response nobody stamped. */
export function arrivalOf(res: ServerResponse | undefined): number {
  return (res && arrivals.get(res)) ?? performance.now();
}

/**
 * Records the request's metrics and access-log line. With `res`, the overhead metric waits for the
 * response's last byte to be handed to the socket: from arrival to that, less the upstreams' time.
 */
export function recordOutcome(deps: GatewayDeps, outcome: Outcome, res?: ServerResponse): void {
  const durationMs = performance.now() - outcome.startedAt;
  const durationSeconds = durationMs / 1000;
  const provider = outcome.candidate?.provider.id ?? "none";
  const model = outcome.candidate?.model.name ?? "none";
  const route = outcome.routeId ?? "none";
  const result = outcome.error?.errorClass ?? "ok";
  deps.metrics.requests.inc({
    api: outcome.api,
    route,
    provider,
    model,
    outcome: result,
  });
  deps.metrics.requestDuration.observe(
    {
      gen_ai_operation_name: outcome.operation,
      gen_ai_request_model: model,
      gen_ai_provider_name: provider,
      outcome: result,
    },
    durationSeconds,
  );
  for (const attempt of outcome.attempts) {
    deps.metrics.upstreamAttempts.inc({
      provider: attempt.providerId,
      model: attempt.model,
      outcome: attempt.errorClass ?? "ok",
    });
  }
  if (outcome.attempts.length > 1 && !outcome.error) deps.metrics.fallbacks.inc({ route });
  if (outcome.usage) {
    const labels = {
      gen_ai_request_model: model,
      gen_ai_provider_name: provider,
      estimated: String(outcome.usage.estimated),
    };
    deps.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: "input" }, outcome.usage.inputTokens);
    if (outcome.operation === "chat") {
      deps.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: "output" }, outcome.usage.outputTokens);
    }
  }
  if (outcome.firstTokenAt !== undefined) {
    deps.metrics.timeToFirstToken.observe(
      { gen_ai_request_model: model, gen_ai_provider_name: provider },
      (outcome.firstTokenAt - outcome.startedAt) / 1000,
    );
    if (!outcome.error && outcome.usage && outcome.usage.outputTokens > 1) {
      deps.metrics.timePerOutputToken.observe(
        { gen_ai_request_model: model, gen_ai_provider_name: provider },
        (performance.now() - outcome.firstTokenAt) / 1000 / (outcome.usage.outputTokens - 1),
      );
    }
  }
  if (outcome.costUsd) {
    deps.metrics.costUsd.inc(
      { route, provider, model, consumer: outcome.consumer ?? "none" },
      outcome.costUsd,
    );
  }
  if (outcome.cache) deps.metrics.cacheRequests.inc({ route, result: outcome.cache });
  // Provider refusals are counted per attempt, where routing may still fall back.
  if (outcome.error instanceof LimitExceededError && outcome.error.scope !== "provider") {
    deps.metrics.rateLimited.inc({ scope: outcome.error.scope, route, provider: "none" });
  }
  if (!outcome.error) {
    const observe = () =>
      deps.metrics.gatewayOverhead.observe(
        { api: outcome.api },
        Math.max(0, performance.now() - outcome.startedAt - outcome.upstreamMs) / 1000,
      );
    if (!res || res.writableFinished) observe();
    else res.once("finish", observe);
  }
  deps.logger.info(
    {
      api: outcome.api,
      route: outcome.routeId,
      consumer: outcome.consumer,
      provider: outcome.candidate?.provider.id,
      model: outcome.candidate?.model.name,
      stream: outcome.stream,
      cache: outcome.cache,
      inputs: outcome.inputs,
      attempts: outcome.attempts.map((a) => `${a.providerId}:${a.errorClass ?? "ok"}`),
      inputTokens: outcome.usage?.inputTokens,
      outputTokens: outcome.operation === "chat" ? outcome.usage?.outputTokens : undefined,
      // Of outputTokens, and so of the cost, where the upstream says.
      reasoningTokens: outcome.usage?.reasoningTokens,
      usageEstimated: outcome.usage?.estimated,
      costUsd: outcome.costUsd,
      durationMs: Math.round(durationMs),
      ttftMs:
        outcome.firstTokenAt === undefined ? undefined : Math.round(outcome.firstTokenAt - outcome.startedAt),
      outcome: outcome.error?.errorClass ?? "ok",
      error: outcome.error?.message,
    },
    "request",
  );
}

/** Counts refusals by a provider's own limits; routing may still fall back after them. */
export function countProviderRefusal(deps: GatewayDeps, routeId: string, err: unknown): never {
  if (err instanceof LimitExceededError) {
    deps.metrics.rateLimited.inc({ scope: err.scope, route: routeId, provider: err.provider ?? "none" });
  }
  throw err;
}
