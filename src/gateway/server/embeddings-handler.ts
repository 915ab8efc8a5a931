import { GatewayError, isGatewayError } from "../../shared/errors.js";
import {
  decodeOpenAiEmbeddingsRequest,
  encodeOpenAiEmbeddingsResponse,
} from "../ingress/openai/openai-embeddings.js";
import { renderOpenAiError } from "../ingress/openai/openai-error.js";
import { dispatch, type AttemptRecord } from "../routing/dispatcher.js";
import { estimateTextTokens } from "../usage/estimate-tokens.js";
import type { JsonReply } from "./chat-handler.js";
import { currentRuntime, resolveRoute, type GatewayDeps } from "./request-context.js";

export async function handleEmbeddings(
  deps: GatewayDeps,
  body: unknown,
  clientSignal: AbortSignal,
): Promise<JsonReply> {
  const startedAt = performance.now();
  const attempts: AttemptRecord[] = [];
  let routeId: string | undefined;
  try {
    const runtime = currentRuntime(deps.store);
    const decoded = decodeOpenAiEmbeddingsRequest(body);
    const route = resolveRoute(runtime, decoded.model, "embedding");
    routeId = route.id;
    const done = await dispatch(
      runtime,
      route,
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
        return candidate.adapter.embed(
          {
            model: candidate.model.upstreamModel,
            input: decoded.input,
            dimensions: decoded.dimensions,
            user: decoded.user,
          },
          ctx,
        );
      },
      attempts,
    );
    done.release();
    const usage = done.result.usage ?? {
      inputTokens: decoded.input.reduce((n, text) => n + estimateTextTokens(text), 0),
      estimated: true,
    };
    const result = { ...done.result, usage };
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
      (performance.now() - startedAt) / 1000,
    );
    deps.logger.info(
      {
        api: "embeddings",
        route: route.id,
        provider: done.candidate.provider.id,
        inputs: decoded.input.length,
        inputTokens: usage.inputTokens,
        usageEstimated: usage.estimated,
        durationMs: Math.round(performance.now() - startedAt),
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
      },
      body: encodeOpenAiEmbeddingsResponse(result, decoded.model, decoded.encodingFormat),
    };
  } catch (err) {
    const error = isGatewayError(err)
      ? err
      : new GatewayError("internal", "the gateway failed to handle the request", { cause: err });
    if (error.errorClass === "internal") deps.logger.error({ err }, "unexpected failure");
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
        attempts: attempts.map((a) => `${a.providerId}:${a.errorClass ?? "ok"}`),
        outcome: error.errorClass,
        error: error.message,
      },
      "request",
    );
    return renderOpenAiError(error);
  }
}
