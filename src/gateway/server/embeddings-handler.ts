import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { GatewayError, isGatewayError } from "../../shared/errors.js";
import {
  decodeOpenAiEmbeddingsRequest,
  encodeOpenAiEmbeddingsResponse,
} from "../ingress/openai/openai-embeddings.js";
import { renderOpenAiError } from "../ingress/openai/openai-error.js";
import { embeddingNeeds } from "../routing/request-needs.js";
import { estimateTextTokens } from "../usage/estimate-tokens.js";
import { costUsd } from "../usage/cost.js";
import type { ConsumerAdmission } from "../limits/consumer-limiter.js";
import { callWithinLimits } from "../limits/limited-call.js";
import { reserveFor } from "../limits/request-reservation.js";
import type { JsonReply } from "./chat-handler.js";
import { routingHeaders } from "./routing-headers.js";
import { arrivalOf, countProviderRefusal, recordOutcome, type Outcome } from "./request-outcome.js";
import {
  admitCaller,
  currentRuntime,
  resolveRoute,
  routeModels,
  type GatewayDeps,
} from "./request-context.js";

export async function handleEmbeddings(
  deps: GatewayDeps,
  body: unknown,
  res: ServerResponse,
  clientSignal: AbortSignal,
  headers: IncomingHttpHeaders = {},
): Promise<JsonReply> {
  const outcome: Outcome = {
    api: "embeddings",
    operation: "embeddings",
    attempts: [],
    startedAt: arrivalOf(res),
    stream: false,
    upstreamMs: 0,
  };
  let admission: ConsumerAdmission | undefined;
  try {
    const runtime = currentRuntime(deps.store);
    const decoded = decodeOpenAiEmbeddingsRequest(body);
    outcome.inputs = decoded.input.length;
    const route = resolveRoute(runtime, decoded.model, "embedding");
    outcome.routeId = route.id;
    const consumer = await admitCaller(deps, runtime, route, decoded.model, headers, false);
    outcome.consumer = consumer?.name;
    const estimatedTokens = decoded.input.reduce((n, text) => n + estimateTextTokens(text), 0);
    if (consumer) {
      const reservation = reserveFor(routeModels(runtime, route), estimatedTokens);
      admission = await deps.traffic.consumerLimits.admit(route, consumer, reservation);
    }

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
      outcome.cache = cached ? "hit" : "miss";
      if (cached) {
        await admission?.settle(0, 0);
        outcome.costUsd = 0;
        return {
          status: 200,
          headers: {
            "x-switchboard-route": route.id,
            "x-switchboard-attempts": "0",
            "x-switchboard-cache": outcome.cache,
          },
          body: encodeOpenAiEmbeddingsResponse(cached, decoded.model, decoded.encodingFormat),
        };
      }
    }

    const done = await deps.router.dispatch(
      runtime,
      route,
      embeddingNeeds(decoded.input, decoded.dimensions),
      clientSignal,
      (candidate, ctx) =>
        callWithinLimits(deps.traffic.providerLimits, candidate, estimatedTokens, () => {
          outcome.upstreamStartedAt ??= performance.now();
          return candidate.adapter.embed(
            {
              model: candidate.model.upstreamModel,
              input: decoded.input,
              dimensions: decoded.dimensions,
              user: decoded.user,
            },
            ctx,
          );
        }).catch((err: unknown) => countProviderRefusal(deps, route.id, err)),
      outcome.attempts,
    );
    outcome.upstreamMs = performance.now() - outcome.upstreamStartedAt!;
    done.release();
    outcome.candidate = done.candidate;
    const usage = done.result.value.usage ?? { inputTokens: estimatedTokens, estimated: true };
    const result = { ...done.result.value, usage };
    outcome.usage = { ...usage, outputTokens: 0 };
    outcome.costUsd = costUsd(outcome.usage, done.candidate.model.pricing);
    await Promise.all([
      done.result.permit.finish(usage.inputTokens),
      admission?.settle(usage.inputTokens, outcome.costUsd ?? 0),
      cacheKey && cacheTtlMs ? deps.traffic.cache.putEmbedding(cacheKey, result, cacheTtlMs) : undefined,
    ]);
    return {
      status: 200,
      headers: {
        ...routingHeaders(route.id, done.candidate, done.attempts),
        ...(outcome.cache ? { "x-switchboard-cache": outcome.cache } : {}),
      },
      body: encodeOpenAiEmbeddingsResponse(result, decoded.model, decoded.encodingFormat),
    };
  } catch (err) {
    const error = isGatewayError(err)
      ? err
      : new GatewayError("internal", "the gateway failed to handle the request", { cause: err });
    outcome.error = error;
    await admission?.settle(0, 0);
    if (error.errorClass === "internal") deps.logger.error({ err }, "unexpected failure");
    return renderOpenAiError(error);
  } finally {
    recordOutcome(deps, outcome, res);
  }
}
