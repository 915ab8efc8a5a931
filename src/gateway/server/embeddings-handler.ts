import type { IncomingHttpHeaders } from "node:http";
import { GatewayError, isGatewayError } from "../../shared/errors.js";
import {
  decodeOpenAiEmbeddingsRequest,
  encodeOpenAiEmbeddingsResponse,
} from "../ingress/openai/openai-embeddings.js";
import { renderOpenAiError } from "../ingress/openai/openai-error.js";
import type { AttemptRecord } from "../routing/dispatcher.js";
import { embeddingNeeds } from "../routing/request-needs.js";
import { estimateTextTokens } from "../usage/estimate-tokens.js";
import { costUsd } from "../usage/cost.js";
import type { ConsumerAdmission } from "../limits/consumer-limiter.js";
import { callWithinLimits } from "../limits/limited-call.js";
import { LimitExceededError } from "../limits/limit-exceeded-error.js";
import type { JsonReply } from "./chat-handler.js";
import { admitCaller, currentRuntime, resolveRoute, type GatewayDeps } from "./request-context.js";

export async function handleEmbeddings(
  deps: GatewayDeps,
  body: unknown,
  clientSignal: AbortSignal,
  headers: IncomingHttpHeaders = {},
): Promise<JsonReply> {
  const startedAt = performance.now();
  const attempts: AttemptRecord[] = [];
  let routeId: string | undefined;
  let consumerName: string | undefined;
  let cache: "hit" | "miss" | undefined;
  let admission: ConsumerAdmission | undefined;
  try {
    const runtime = currentRuntime(deps.store);
    const decoded = decodeOpenAiEmbeddingsRequest(body);
    const route = resolveRoute(runtime, decoded.model, "embedding");
    routeId = route.id;
    const consumer = await admitCaller(deps, runtime, route, decoded.model, headers, false);
    consumerName = consumer?.name;
    const estimatedTokens = decoded.input.reduce((n, text) => n + estimateTextTokens(text), 0);
    if (consumer) admission = await deps.traffic.consumerLimits.admit(route, consumer, estimatedTokens);

    const cacheTtlMs = route.cache?.ttlMs;
    const cacheKey = cacheTtlMs
      ? deps.traffic.cache.embeddingKey(route, {
          input: decoded.input,
          dimensions: decoded.dimensions,
          user: decoded.user,
        })
      : undefined;
    if (cacheKey) {
      const cached = await deps.traffic.cache.getEmbedding(cacheKey);
      cache = cached ? "hit" : "miss";
      deps.metrics.cacheRequests.inc({ route: route.id, result: cache });
      if (cached) {
        await admission?.settle(0, 0);
        deps.logger.info(
          {
            api: "embeddings",
            route: route.id,
            consumer: consumerName,
            cache,
            inputs: decoded.input.length,
            costUsd: 0,
            durationMs: Math.round(performance.now() - startedAt),
            outcome: "ok",
          },
          "request",
        );
        return {
          status: 200,
          headers: {
            "x-switchboard-route": route.id,
            "x-switchboard-attempts": "0",
            "x-switchboard-cache": cache,
          },
          body: encodeOpenAiEmbeddingsResponse(cached, decoded.model, decoded.encodingFormat),
        };
      }
    }

    let upstreamStartedAt: number | undefined;
    const done = await deps.router.dispatch(
      runtime,
      route,
      embeddingNeeds(decoded.input, decoded.dimensions),
      clientSignal,
      (candidate, ctx) => {
        const configured = candidate.model.dimensions;
        if (decoded.dimensions !== undefined && configured !== undefined && decoded.dimensions > configured) {
          throw new GatewayError(
            "invalid_request",
            `dimensions ${decoded.dimensions} is larger than the ${configured} that model "${decoded.model}" produces`,
            { param: "dimensions" },
          );
        }
        return callWithinLimits(deps.traffic.providerLimits, candidate, estimatedTokens, () => {
          upstreamStartedAt ??= performance.now();
          return candidate.adapter.embed(
            {
              model: candidate.model.upstreamModel,
              input: decoded.input,
              dimensions: decoded.dimensions,
              user: decoded.user,
            },
            ctx,
          );
        }).catch((err: unknown) => {
          if (err instanceof LimitExceededError) {
            deps.metrics.rateLimited.inc({
              scope: err.scope,
              route: route.id,
              provider: candidate.provider.id,
            });
          }
          throw err;
        });
      },
      attempts,
    );
    const upstreamMs = performance.now() - upstreamStartedAt!;
    done.release();
    const usage = done.result.value.usage ?? { inputTokens: estimatedTokens, estimated: true };
    const result = { ...done.result.value, usage };
    const cost = costUsd(usage, done.candidate.model.pricing);
    await Promise.all([
      done.result.permit.finish(usage.inputTokens),
      admission?.settle(usage.inputTokens, cost ?? 0),
      cacheKey && cacheTtlMs ? deps.traffic.cache.putEmbedding(cacheKey, result, cacheTtlMs) : undefined,
    ]);
    const durationMs = performance.now() - startedAt;
    deps.metrics.requests.inc({
      api: "embeddings",
      route: route.id,
      provider: done.candidate.provider.id,
      model: done.candidate.model.name,
      outcome: "ok",
    });
    deps.metrics.requestDuration.observe(
      {
        gen_ai_operation_name: "embeddings",
        gen_ai_request_model: done.candidate.model.name,
        gen_ai_provider_name: done.candidate.provider.id,
        outcome: "ok",
      },
      durationMs / 1000,
    );
    deps.metrics.tokenUsage.observe(
      {
        gen_ai_token_type: "input",
        gen_ai_request_model: done.candidate.model.name,
        gen_ai_provider_name: done.candidate.provider.id,
        estimated: String(usage.estimated),
      },
      usage.inputTokens,
    );
    if (cost) {
      deps.metrics.costUsd.inc(
        {
          route: route.id,
          provider: done.candidate.provider.id,
          model: done.candidate.model.name,
          consumer: consumerName ?? "none",
        },
        cost,
      );
    }
    deps.metrics.gatewayOverhead.observe({ api: "embeddings" }, Math.max(0, durationMs - upstreamMs) / 1000);
    deps.logger.info(
      {
        api: "embeddings",
        route: route.id,
        consumer: consumerName,
        provider: done.candidate.provider.id,
        cache,
        inputs: decoded.input.length,
        inputTokens: usage.inputTokens,
        usageEstimated: usage.estimated,
        costUsd: cost,
        durationMs: Math.round(durationMs),
        outcome: "ok",
      },
      "request",
    );
    return {
      status: 200,
      headers: {
        "x-switchboard-route": route.id,
        "x-switchboard-provider": done.candidate.provider.id,
        "x-switchboard-attempts": String(done.attempts.length),
        ...(cache ? { "x-switchboard-cache": cache } : {}),
      },
      body: encodeOpenAiEmbeddingsResponse(result, decoded.model, decoded.encodingFormat),
    };
  } catch (err) {
    const error = isGatewayError(err)
      ? err
      : new GatewayError("internal", "the gateway failed to handle the request", { cause: err });
    await admission?.settle(0, 0);
    if (error.errorClass === "internal") deps.logger.error({ err }, "unexpected failure");
    if (error instanceof LimitExceededError && error.scope !== "provider") {
      deps.metrics.rateLimited.inc({ scope: error.scope, route: routeId ?? "none", provider: "none" });
    }
    deps.metrics.requests.inc({
      api: "embeddings",
      route: routeId ?? "none",
      provider: attempts.at(-1)?.providerId ?? "none",
      model: attempts.at(-1)?.model ?? "none",
      outcome: error.errorClass,
    });
    deps.logger.info(
      {
        api: "embeddings",
        route: routeId,
        consumer: consumerName,
        attempts: attempts.map((a) => `${a.providerId}:${a.errorClass ?? "ok"}`),
        outcome: error.errorClass,
        error: error.message,
      },
      "request",
    );
    return renderOpenAiError(error);
  }
}
