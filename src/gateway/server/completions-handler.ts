import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { Usage } from "../canonical/chat.js";
import type {
  CompletionRequest,
  CompletionResponse,
  CompletionStreamEvent,
} from "../canonical/completion.js";
import {
  chatRequestForCompletion,
  completionEventsFromChat,
  completionFromChat,
} from "../canonical/completion-as-chat.js";
import { GatewayError, isGatewayError } from "../../shared/errors.js";
import type { ResponseMeta } from "../ingress/chat-ingress-format.js";
import {
  decodeOpenAiCompletionsRequest,
  encodeOpenAiCompletionsResponse,
  encodeOpenAiCompletionsStream,
} from "../ingress/openai/openai-completions.js";
import { renderOpenAiError, renderOpenAiStreamError } from "../ingress/openai/openai-error.js";
import type { Candidate } from "../routing/candidate.js";
import type { CallContext } from "../providers/provider-adapter.js";
import { chatNeeds } from "../routing/request-needs.js";
import { estimateTextTokens } from "../usage/estimate-tokens.js";
import { costUsd } from "../usage/cost.js";
import type { ConsumerAdmission } from "../limits/consumer-limiter.js";
import { callWithinLimits } from "../limits/limited-call.js";
import { outputAllowance, reserveFor } from "../limits/request-reservation.js";
import type { JsonReply } from "./chat-handler.js";
import { primeStream } from "./first-event.js";
import { SseWriter } from "./sse-writer.js";
import { routingHeaders } from "./routing-headers.js";
import { timedUpstream } from "./stream-taps.js";
import { arrivalOf, countProviderRefusal, recordOutcome, type Outcome } from "./request-outcome.js";
import {
  admitCaller,
  currentRuntime,
  newRequestId,
  resolveRoute,
  routeModels,
  type GatewayDeps,
} from "./request-context.js";

/** Natively where the target's model declares text completions, else as one chat message. */
function completeOn(
  candidate: Candidate,
  request: CompletionRequest,
  ctx: CallContext,
): Promise<CompletionResponse> {
  const { adapter, model } = candidate;
  if (model.textCompletions && adapter.complete) return adapter.complete(request, ctx);
  return adapter.chat(chatRequestForCompletion(request, describe(candidate)), ctx).then(completionFromChat);
}

async function completeStreamOn(
  candidate: Candidate,
  request: CompletionRequest,
  ctx: CallContext,
): Promise<AsyncIterable<CompletionStreamEvent>> {
  const { adapter, model } = candidate;
  if (model.textCompletions && adapter.completeStream) return adapter.completeStream(request, ctx);
  return completionEventsFromChat(
    await adapter.chatStream(chatRequestForCompletion(request, describe(candidate)), ctx),
  );
}

const describe = (candidate: Candidate) =>
  `${candidate.provider.type} provider ${candidate.provider.id} model ${candidate.model.name}`;

/** Usage the upstream did not report: the prompts and the text that came back, estimated. */
function estimatedUsage(promptTokens: number, text: string): Usage {
  return { inputTokens: promptTokens, outputTokens: estimateTextTokens(text), estimated: true };
}

/**
 * Serves `POST /v1/completions` through the same routing, residency policy, limits, budgets,
 * metrics and access log as chat; answers are not cached.
 */
export async function handleCompletions(
  deps: GatewayDeps,
  body: unknown,
  res: ServerResponse,
  clientSignal: AbortSignal,
  headers: IncomingHttpHeaders = {},
): Promise<JsonReply | undefined> {
  const outcome: Outcome = {
    api: "completions",
    operation: "chat",
    attempts: [],
    startedAt: arrivalOf(res),
    stream: false,
    upstreamMs: 0,
  };
  let admission: ConsumerAdmission | undefined;
  try {
    const runtime = currentRuntime(deps.store);
    const decoded = decodeOpenAiCompletionsRequest(body);
    outcome.stream = decoded.stream;
    const route = resolveRoute(runtime, decoded.model, "chat");
    outcome.routeId = route.id;
    const consumer = await admitCaller(deps, runtime, route, decoded.model, headers, false);
    outcome.consumer = consumer?.name;
    const request = decoded.request;
    const promptTokens = request.prompt.reduce(
      (n, p) => n + estimateTextTokens(p + (request.suffix ?? "")),
      0,
    );
    // Every prompt gets n choices, each up to max_tokens.
    const choices = request.prompt.length * (request.n ?? 1);
    const maxTokens = request.maxTokens === undefined ? undefined : request.maxTokens * choices;
    if (consumer) {
      admission = await deps.traffic.consumerLimits.admit(
        route,
        consumer,
        reserveFor(routeModels(runtime, route), promptTokens, maxTokens),
      );
    }
    const needs = {
      ...chatNeeds({
        messages: request.prompt.map((p) => ({ role: "user", content: [{ type: "text", text: p }] })),
      }),
      maxOutputTokens: request.maxTokens,
    };
    const requestFor = (candidate: Candidate): CompletionRequest => ({
      ...request,
      model: candidate.model.upstreamModel,
    });
    const reservedTokens = (candidate: Candidate) =>
      promptTokens + outputAllowance(candidate.model, promptTokens, maxTokens);
    const meta: ResponseMeta = {
      id: newRequestId("cmpl"),
      created: Math.floor(Date.now() / 1000),
      model: decoded.model,
      includeUsage: decoded.includeUsage,
    };
    const call = <T>(candidate: Candidate, attempt: () => Promise<T>) =>
      callWithinLimits(deps.traffic.providerLimits, candidate, reservedTokens(candidate), () => {
        outcome.upstreamStartedAt ??= performance.now();
        return attempt();
      }).catch((err: unknown) => countProviderRefusal(deps, route.id, err));

    if (!decoded.stream) {
      const done = await deps.router.dispatch(
        runtime,
        route,
        needs,
        clientSignal,
        (candidate, ctx) => call(candidate, () => completeOn(candidate, requestFor(candidate), ctx)),
        outcome.attempts,
      );
      outcome.upstreamMs = performance.now() - outcome.upstreamStartedAt!;
      done.release();
      outcome.candidate = done.candidate;
      const answer = done.result.value;
      const usage = answer.usage ?? estimatedUsage(promptTokens, answer.choices.map((c) => c.text).join(""));
      outcome.usage = usage;
      outcome.costUsd = costUsd(usage, done.candidate.model.pricing);
      await Promise.all([
        done.result.permit.finish(usage.inputTokens + usage.outputTokens),
        admission?.settle(usage.inputTokens + usage.outputTokens, outcome.costUsd ?? 0),
      ]);
      return {
        status: 200,
        headers: routingHeaders(route.id, done.candidate, done.attempts),
        body: encodeOpenAiCompletionsResponse({ ...answer, usage }, meta),
      };
    }

    const done = await deps.router.dispatch(
      runtime,
      route,
      needs,
      clientSignal,
      (candidate, ctx) =>
        call(candidate, () =>
          primeStream(
            () => completeStreamOn(candidate, requestFor(candidate), ctx),
            ctx.timeouts.firstTokenMs,
            candidate.provider.id,
          ),
        ),
      outcome.attempts,
    );
    outcome.upstreamMs = performance.now() - outcome.upstreamStartedAt!;
    outcome.candidate = done.candidate;
    outcome.firstTokenAt = performance.now();
    let text = "";
    let reported: Usage | undefined;
    const upstream = timedUpstream(done.result.value.events, (ms) => (outcome.upstreamMs += ms));
    // Every stream ends with usage: the upstream's, or an estimate from what it sent.
    const events = (async function* (): AsyncGenerator<CompletionStreamEvent> {
      for await (const event of upstream) {
        if (event.type === "choice-delta") text += event.text;
        if (event.type === "usage") reported = event.usage;
        else yield event;
      }
      yield { type: "usage", usage: reported ?? estimatedUsage(promptTokens, text) };
    })();
    const writer = new SseWriter(res, routingHeaders(route.id, done.candidate, done.attempts));
    try {
      for await (const frame of encodeOpenAiCompletionsStream(
        events,
        meta,
        (usage) => (outcome.usage = usage),
      )) {
        if (clientSignal.aborted) break;
        await writer.write(frame);
      }
    } catch (err) {
      // After the first byte there is no failover: end the stream with an error event.
      const error = isGatewayError(err)
        ? err
        : new GatewayError("internal", "the stream failed inside the gateway");
      outcome.error = error;
      done.recordStreamFailure(error);
      if (!clientSignal.aborted) await writer.write(renderOpenAiStreamError(error));
    } finally {
      writer.end();
      if (clientSignal.aborted || outcome.error) await done.result.value.cancel();
      done.release();
      const usage = outcome.usage ?? (outcome.error ? estimatedUsage(promptTokens, text) : undefined);
      outcome.usage = usage;
      const tokens = usage ? usage.inputTokens + usage.outputTokens : 0;
      outcome.costUsd = usage ? costUsd(usage, done.candidate.model.pricing) : undefined;
      await Promise.all([done.result.permit.finish(tokens), admission?.settle(tokens, outcome.costUsd ?? 0)]);
    }
    return undefined;
  } catch (err) {
    const error = isGatewayError(err)
      ? err
      : new GatewayError("internal", "the gateway failed to handle the request", { cause: err });
    outcome.error = error;
    if (!outcome.candidate) await admission?.settle(0, 0);
    if (error.errorClass === "internal") deps.logger.error({ err }, "unexpected failure");
    return renderOpenAiError(error);
  } finally {
    recordOutcome(deps, outcome, res);
  }
}
