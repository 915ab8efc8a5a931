import type { IncomingHttpHeaders } from "node:http";
import type { ChatRequest } from "../canonical/chat.js";
import { GatewayError, isGatewayError } from "../../shared/errors.js";
import { renderAnthropicError } from "../ingress/anthropic/anthropic-error.js";
import { decodeAnthropicCountTokensRequest } from "../ingress/anthropic/decode-anthropic-count-tokens.js";
import type { Candidate } from "../routing/candidate.js";
import { allowedCandidates } from "../routing/route-planner.js";
import { estimatePromptTokens } from "../usage/estimate-tokens.js";
import type { JsonReply } from "./chat-handler.js";
import { admitCaller, currentRuntime, resolveRoute, type GatewayDeps } from "./request-context.js";

const API = "messages.count_tokens";

/** Tells clients whether `input_tokens` is the provider's count or the gateway's estimate. */
export const TOKEN_COUNT_HEADER = "x-switchboard-token-count";

interface CountOutcome {
  startedAt: number;
  routeId?: string;
  consumer?: string;
  candidate?: Candidate;
  inputTokens?: number;
  counted?: "upstream" | "estimated";
  error?: GatewayError;
}

/** The target's own count, or undefined when it cannot count or failed (the caller then estimates). */
async function countUpstream(
  deps: GatewayDeps,
  candidate: Candidate,
  request: Omit<ChatRequest, "model">,
  clientSignal: AbortSignal,
): Promise<number | undefined> {
  if (!candidate.adapter.countTokens) return undefined;
  const timeouts = candidate.provider.timeouts;
  const signal = AbortSignal.any([clientSignal, AbortSignal.timeout(timeouts.totalMs)]);
  try {
    return await candidate.adapter.countTokens(
      { ...request, model: candidate.model.upstreamModel },
      { signal, timeouts },
    );
  } catch (err) {
    if (isGatewayError(err)) {
      deps.logger.warn(
        { api: API, provider: candidate.provider.id, outcome: err.errorClass, error: err.message },
        "the upstream could not count tokens; answering with the gateway's estimate",
      );
    } else {
      deps.logger.error({ err }, "unexpected failure counting tokens upstream");
    }
    return undefined;
  }
}

function recordCount(deps: GatewayDeps, outcome: CountOutcome): void {
  const result = outcome.error?.errorClass ?? "ok";
  deps.metrics.requests.inc({
    api: API,
    route: outcome.routeId ?? "none",
    provider: outcome.candidate?.provider.id ?? "none",
    model: outcome.candidate?.model.name ?? "none",
    outcome: result,
  });
  deps.logger.info(
    {
      api: API,
      route: outcome.routeId,
      consumer: outcome.consumer,
      provider: outcome.candidate?.provider.id,
      model: outcome.candidate?.model.name,
      inputTokens: outcome.inputTokens,
      tokenCount: outcome.counted,
      durationMs: Math.round(performance.now() - outcome.startedAt),
      outcome: result,
      error: outcome.error?.message,
    },
    "request",
  );
}

/**
 * Serves Anthropic's `POST /v1/messages/count_tokens`. Admission and route resolution are those
 * of `/v1/messages`, but nothing is billed and no limit is charged. The count comes from the
 * route's first target its data-residency policy allows, when that upstream can count;
 * otherwise, or when counting fails, it is the gateway's own estimate.
 */
export async function handleCountTokens(
  deps: GatewayDeps,
  body: unknown,
  clientSignal: AbortSignal,
  headers: IncomingHttpHeaders = {},
): Promise<JsonReply> {
  const outcome: CountOutcome = { startedAt: performance.now() };
  try {
    const runtime = currentRuntime(deps.store);
    const decoded = decodeAnthropicCountTokensRequest(body);
    const route = resolveRoute(runtime, decoded.model, "chat");
    outcome.routeId = route.id;
    const consumer = await admitCaller(deps, runtime, route, decoded.model, headers, true);
    outcome.consumer = consumer?.name;
    // Only a target the policy allows may see the prompt, as for /v1/messages.
    const target = allowedCandidates(runtime, route)[0];
    const counted = target ? await countUpstream(deps, target, decoded.request, clientSignal) : undefined;
    const replyHeaders: Record<string, string> = { "x-switchboard-route": route.id };
    if (target && counted !== undefined) {
      outcome.candidate = target;
      outcome.counted = "upstream";
      outcome.inputTokens = counted;
      replyHeaders["x-switchboard-provider"] = target.provider.id;
    } else {
      outcome.counted = "estimated";
      outcome.inputTokens = estimatePromptTokens(decoded.request);
    }
    replyHeaders[TOKEN_COUNT_HEADER] = outcome.counted;
    return { status: 200, headers: replyHeaders, body: { input_tokens: outcome.inputTokens } };
  } catch (err) {
    const error = isGatewayError(err)
      ? err
      : new GatewayError("internal", "the gateway failed to handle the request", { cause: err });
    outcome.error = error;
    if (error.errorClass === "internal") deps.logger.error({ err }, "unexpected failure");
    const rendered = renderAnthropicError(error);
    return { status: rendered.status, headers: rendered.headers, body: rendered.body };
  } finally {
    recordCount(deps, outcome);
  }
}
