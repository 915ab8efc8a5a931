import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { ChatRequest, ChatStreamEvent } from "../canonical/chat.js";
import { GatewayError, isGatewayError } from "../../shared/errors.js";
import type { ChatIngressFormat, ResponseMeta } from "../ingress/chat-ingress-format.js";
import type { Candidate } from "../routing/candidate.js";
import { chatNeeds } from "../routing/request-needs.js";
import { ensureStreamUsage, estimatePromptTokens, withEstimatedUsage } from "../usage/estimate-tokens.js";
import { costUsd } from "../usage/cost.js";
import { eventsFromResponse, responseFromEvents } from "../cache/replay-events.js";
import type { ConsumerAdmission } from "../limits/consumer-limiter.js";
import { callWithinLimits } from "../limits/limited-call.js";
import { LimitExceededError } from "../limits/limit-exceeded-error.js";
import { arrivalOf, countProviderRefusal, recordOutcome, type Outcome } from "./request-outcome.js";
import { collectInto, timedUpstream } from "./stream-taps.js";
import { meterStream } from "../limits/stream-metering.js";
import { outputAllowance, reserveFor } from "../limits/request-reservation.js";
import { primeStream } from "./first-event.js";
import { SseWriter } from "./sse-writer.js";
import { routingHeaders } from "./routing-headers.js";
import {
  admitCaller,
  currentRuntime,
  newRequestId,
  resolveRoute,
  routeModels,
  type GatewayDeps,
} from "./request-context.js";

export interface JsonReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
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
  headers: IncomingHttpHeaders = {},
): Promise<JsonReply | undefined> {
  const outcome: Outcome = {
    api,
    operation: "chat",
    attempts: [],
    startedAt: arrivalOf(res),
    stream: false,
    upstreamMs: 0,
  };
  let admission: ConsumerAdmission | undefined;
  try {
    const runtime = currentRuntime(deps.store);
    const decoded = format.decode(body);
    outcome.stream = decoded.stream;
    const route = resolveRoute(runtime, decoded.model, "chat");
    outcome.routeId = route.id;
    const consumer = await admitCaller(deps, runtime, route, decoded.model, headers, api === "messages");
    outcome.consumer = consumer?.name;
    const promptTokens = estimatePromptTokens(decoded.request);
    const needs = chatNeeds(decoded.request);
    const maxTokens = decoded.request.maxTokens;
    if (consumer) {
      const reservation = reserveFor(routeModels(runtime, route), promptTokens, maxTokens);
      admission = await deps.traffic.consumerLimits.admit(route, consumer, reservation);
    }
    const meta: ResponseMeta = {
      id: newRequestId("chatcmpl"),
      created: Math.floor(Date.now() / 1000),
      model: decoded.model,
      includeUsage: decoded.includeUsage,
      promptTokensEstimate: promptTokens,
      echo: decoded.echo,
    };
    const requestFor = (candidate: Candidate): ChatRequest => ({
      ...decoded.request,
      model: candidate.model.upstreamModel,
    });
    // Provider tokens per minute hold the prompt and the most the answer may use on that model.
    const reservedTokens = (candidate: Candidate) =>
      promptTokens + outputAllowance(candidate.model, promptTokens, maxTokens);
    const markUpstreamStart = () => {
      outcome.upstreamStartedAt ??= performance.now();
    };

    const cacheTtlMs = route.cache?.ttlMs;
    const cacheKey = cacheTtlMs ? deps.traffic.cache.chatKey(route, decoded.request) : undefined;
    const cacheHeaders: Record<string, string> = {};
    if (cacheKey) {
      const cached = await deps.traffic.cache.getChat(cacheKey);
      outcome.cache = cached ? "hit" : "miss";
      cacheHeaders["x-switchboard-cache"] = outcome.cache;
      if (cached) {
        // No upstream call: nothing is charged but the request itself.
        await admission?.settle(0, 0);
        const hitHeaders = {
          "x-switchboard-route": route.id,
          "x-switchboard-attempts": "0",
          ...cacheHeaders,
        };
        if (!decoded.stream) {
          return { status: 200, headers: hitHeaders, body: format.encodeResponse(cached.response, meta) };
        }
        const writer = new SseWriter(res, hitHeaders);
        try {
          const replay = (async function* () {
            yield* cached.events ?? eventsFromResponse(cached.response);
          })();
          for await (const frame of format.encodeStream(replay, meta)) {
            if (clientSignal.aborted) break;
            await writer.write(frame);
          }
        } finally {
          writer.end();
        }
        return undefined;
      }
    }

    if (!decoded.stream) {
      const done = await deps.router.dispatch(
        runtime,
        route,
        needs,
        clientSignal,
        (candidate, ctx) =>
          callWithinLimits(deps.traffic.providerLimits, candidate, reservedTokens(candidate), () => {
            markUpstreamStart();
            return candidate.adapter.chat(requestFor(candidate), ctx);
          }).catch((err: unknown) => countProviderRefusal(deps, route.id, err)),
        outcome.attempts,
      );
      outcome.upstreamMs = performance.now() - outcome.upstreamStartedAt!;
      done.release();
      outcome.candidate = done.candidate;
      const response = withEstimatedUsage(done.result.value, requestFor(done.candidate));
      const usage = response.usage!;
      outcome.usage = usage;
      outcome.costUsd = costUsd(usage, done.candidate.model.pricing);
      await Promise.all([
        done.result.permit.finish(usage.inputTokens + usage.outputTokens),
        admission?.settle(usage.inputTokens + usage.outputTokens, outcome.costUsd ?? 0),
        cacheKey && cacheTtlMs && response.finishReason !== "content_filter"
          ? deps.traffic.cache.putChat(cacheKey, { response }, cacheTtlMs)
          : undefined,
      ]);
      return {
        status: 200,
        headers: { ...routingHeaders(route.id, done.candidate, done.attempts), ...cacheHeaders },
        body: format.encodeResponse(response, meta),
      };
    }

    const done = await deps.router.dispatch(
      runtime,
      route,
      needs,
      clientSignal,
      (candidate, ctx) =>
        callWithinLimits(deps.traffic.providerLimits, candidate, reservedTokens(candidate), async () => {
          markUpstreamStart();
          return primeStream(
            () => candidate.adapter.chatStream(requestFor(candidate), ctx),
            ctx.timeouts.firstTokenMs,
            candidate.provider.id,
          );
        }).catch((err: unknown) => countProviderRefusal(deps, route.id, err)),
      outcome.attempts,
    );
    outcome.upstreamMs = performance.now() - outcome.upstreamStartedAt!;
    outcome.candidate = done.candidate;
    outcome.firstTokenAt = performance.now();
    const pricing = done.candidate.model.pricing;
    const collected: ChatStreamEvent[] | undefined = cacheKey ? [] : undefined;
    try {
      const writer = new SseWriter(res, {
        ...routingHeaders(route.id, done.candidate, done.attempts),
        ...cacheHeaders,
      });
      const upstream = timedUpstream(done.result.value.events, (ms) => (outcome.upstreamMs += ms));
      let events = ensureStreamUsage(upstream, requestFor(done.candidate), (usage) => {
        outcome.usage = usage;
      });
      // Metered as it flows, so a stream needing more than its consumer's limits can give is cut.
      if (admission) events = meterStream(events, admission, pricing, promptTokens);
      if (collected) events = collectInto(events, collected);
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
        // A consumer's limit cutting the stream says nothing about the upstream's health.
        if (!(error instanceof LimitExceededError)) done.recordStreamFailure(error);
        if (!clientSignal.aborted) await writer.write(format.renderStreamError(error, meta));
      } finally {
        writer.end();
      }
    } finally {
      if (clientSignal.aborted || outcome.error) await done.result.value.cancel();
      done.release();
      const usage = outcome.usage;
      const tokens = usage ? usage.inputTokens + usage.outputTokens : 0;
      outcome.costUsd = usage ? costUsd(usage, pricing) : undefined;
      await Promise.all([done.result.permit.finish(tokens), admission?.settle(tokens, outcome.costUsd ?? 0)]);
    }
    if (collected && cacheTtlMs && !outcome.error && !clientSignal.aborted) {
      const response = responseFromEvents(collected, meta.id, done.candidate.model.upstreamModel);
      if (response && response.finishReason !== "content_filter") {
        await deps.traffic.cache.putChat(cacheKey!, { response, events: collected }, cacheTtlMs);
      }
    }
    return undefined;
  } catch (err) {
    const error = isGatewayError(err)
      ? err
      : new GatewayError("internal", "the gateway failed to handle the request", { cause: err });
    outcome.error = error;
    // The answer failed: give back the tokens reserved for it (the request itself still counts).
    if (!outcome.candidate) await admission?.settle(0, 0);
    if (error.errorClass === "internal") deps.logger.error({ err }, "unexpected failure");
    const rendered = format.renderError(error);
    return { status: rendered.status, headers: rendered.headers, body: rendered.body };
  } finally {
    recordOutcome(deps, outcome, res);
  }
}
