import type { ServerResponse } from "node:http";
import type { ChatRequest, Usage } from "../canonical/chat.js";
import { GatewayError, isGatewayError } from "../../shared/errors.js";
import type { ChatIngressFormat, ResponseMeta } from "../ingress/chat-ingress-format.js";
import { dispatch, type AttemptRecord, type Candidate } from "../routing/dispatcher.js";
import { ensureStreamUsage, withEstimatedUsage } from "../usage/estimate-tokens.js";
import { primeStream } from "./first-event.js";
import { SseWriter } from "./sse-writer.js";
import { currentRuntime, newRequestId, resolveRoute, type GatewayDeps } from "./request-context.js";

export interface JsonReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function routingHeaders(
  routeId: string,
  candidate: Candidate,
  attempts: AttemptRecord[],
): Record<string, string> {
  return {
    "x-switchboard-route": routeId,
    "x-switchboard-provider": candidate.provider.id,
    "x-switchboard-attempts": String(attempts.length),
  };
}

interface Outcome {
  api: string;
  routeId?: string;
  candidate?: Candidate;
  attempts: AttemptRecord[];
  usage?: Usage;
  error?: GatewayError;
  startedAt: number;
  firstTokenAt?: number;
  stream: boolean;
}

function record(deps: GatewayDeps, outcome: Outcome): void {
  const durationSeconds = (performance.now() - outcome.startedAt) / 1000;
  const provider = outcome.candidate?.provider.id ?? "none";
  const model = outcome.candidate?.model.name ?? "none";
  const result = outcome.error?.errorClass ?? "ok";
  deps.metrics.requests.inc({
    api: outcome.api,
    route: outcome.routeId ?? "none",
    provider,
    model,
    outcome: result,
  });
  deps.metrics.requestDuration.observe(
    {
      gen_ai_operation_name: "chat",
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
  if (outcome.attempts.length > 1 && !outcome.error)
    deps.metrics.fallbacks.inc({ route: outcome.routeId ?? "none" });
  if (outcome.usage) {
    const labels = {
      gen_ai_request_model: model,
      gen_ai_provider_name: provider,
      estimated: String(outcome.usage.estimated),
    };
    deps.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: "input" }, outcome.usage.inputTokens);
    deps.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: "output" }, outcome.usage.outputTokens);
  }
  if (outcome.firstTokenAt !== undefined) {
    deps.metrics.timeToFirstToken.observe(
      { gen_ai_request_model: model, gen_ai_provider_name: provider },
      (outcome.firstTokenAt - outcome.startedAt) / 1000,
    );
  }
  deps.logger.info(
    {
      api: outcome.api,
      route: outcome.routeId,
      provider: outcome.candidate?.provider.id,
      model: outcome.candidate?.model.name,
      stream: outcome.stream,
      attempts: outcome.attempts.map((a) => `${a.providerId}:${a.errorClass ?? "ok"}`),
      inputTokens: outcome.usage?.inputTokens,
      outputTokens: outcome.usage?.outputTokens,
      usageEstimated: outcome.usage?.estimated,
      durationMs: Math.round(performance.now() - outcome.startedAt),
      ttftMs:
        outcome.firstTokenAt === undefined ? undefined : Math.round(outcome.firstTokenAt - outcome.startedAt),
      outcome: outcome.error?.errorClass ?? "ok",
      error: outcome.error?.message,
    },
    "request",
  );
}

/**
 * Serves one chat request in any ingress format. Returns a JSON reply, or undefined when it
 * has streamed the answer to `res` itself.
 */
export async function handleChat(
  deps: GatewayDeps,
  format: ChatIngressFormat,
  api: string,
  body: unknown,
  res: ServerResponse,
  clientSignal: AbortSignal,
): Promise<JsonReply | undefined> {
  const outcome: Outcome = { api, attempts: [], startedAt: performance.now(), stream: false };
  try {
    const runtime = currentRuntime(deps.store);
    const decoded = format.decode(body);
    outcome.stream = decoded.stream;
    const route = resolveRoute(runtime, decoded.model, "chat");
    outcome.routeId = route.id;
    const meta: ResponseMeta = {
      id: newRequestId("chatcmpl"),
      created: Math.floor(Date.now() / 1000),
      model: decoded.model,
      includeUsage: decoded.includeUsage,
    };
    const requestFor = (candidate: Candidate): ChatRequest => ({
      ...decoded.request,
      model: candidate.model.upstreamModel,
    });

    if (!decoded.stream) {
      const done = await dispatch(
        runtime,
        route,
        clientSignal,
        (candidate, ctx) => candidate.adapter.chat(requestFor(candidate), ctx),
        outcome.attempts,
      );
      done.release();
      outcome.candidate = done.candidate;
      const response = withEstimatedUsage(done.result, requestFor(done.candidate));
      outcome.usage = response.usage;
      return {
        status: 200,
        headers: routingHeaders(route.id, done.candidate, done.attempts),
        body: format.encodeResponse(response, meta),
      };
    }

    const done = await dispatch(
      runtime,
      route,
      clientSignal,
      async (candidate, ctx) =>
        primeStream(
          await candidate.adapter.chatStream(requestFor(candidate), ctx),
          ctx.timeouts.firstTokenMs,
          candidate.provider.id,
        ),
      outcome.attempts,
    );
    outcome.candidate = done.candidate;
    outcome.firstTokenAt = performance.now();
    const writer = new SseWriter(res, routingHeaders(route.id, done.candidate, done.attempts));
    const events = ensureStreamUsage(done.result.events, requestFor(done.candidate), (usage) => {
      outcome.usage = usage;
    });
    try {
      for await (const frame of format.encodeStream(events, meta)) {
        if (clientSignal.aborted) break;
        await writer.write(frame);
      }
    } catch (err) {
      // After the first byte there is no failover: end the stream with an error event.
      const error = isGatewayError(err)
        ? err
        : new GatewayError("internal", "the stream failed inside the gateway");
      outcome.error = error;
      if (!clientSignal.aborted) await writer.write(format.renderStreamError(error));
    } finally {
      if (clientSignal.aborted) await done.result.cancel();
      done.release();
      writer.end();
    }
    return undefined;
  } catch (err) {
    const error = isGatewayError(err)
      ? err
      : new GatewayError("internal", "the gateway failed to handle the request", { cause: err });
    outcome.error = error;
    if (error.errorClass === "internal") deps.logger.error({ err }, "unexpected failure");
    const rendered = format.renderError(error);
    return { status: rendered.status, headers: rendered.headers, body: rendered.body };
  } finally {
    record(deps, outcome);
  }
}
