import { GatewayError } from "../../shared/errors.js";
import type { CompiledModel, CompiledRoute } from "../../shared/schemas/gateway-config.js";
import type { Candidate } from "./candidate.js";
import type { RequestNeeds } from "./request-needs.js";

type Misfit = { field: "context" | "max_tokens" | "tools" | "dimensions"; reason: string };

/** Why a model cannot serve the request, or undefined when it can. Unknown limits are not held against it. */
export function misfit(model: CompiledModel, needs: RequestNeeds): Misfit | undefined {
  if (needs.tools && !model.supportsTools) return { field: "tools", reason: "does not support tools" };
  if (
    needs.dimensions !== undefined &&
    model.dimensions !== undefined &&
    needs.dimensions > model.dimensions
  ) {
    return {
      field: "dimensions",
      reason: `produces ${model.dimensions} dimensions, fewer than the ${needs.dimensions} requested`,
    };
  }
  if (
    needs.maxOutputTokens !== undefined &&
    model.maxOutputTokens !== undefined &&
    needs.maxOutputTokens > model.maxOutputTokens
  ) {
    return {
      field: "max_tokens",
      reason: `writes at most ${model.maxOutputTokens} output tokens, fewer than the ${needs.maxOutputTokens} requested`,
    };
  }
  if (model.contextWindow !== undefined) {
    const needed = needs.contextTokens + (needs.maxOutputTokens ?? 0);
    if (needed > model.contextWindow) {
      const output = needs.maxOutputTokens ? ` + ${needs.maxOutputTokens} output` : "";
      return {
        field: "context",
        reason: `has a ${model.contextWindow}-token context window; the request needs about ${needs.contextTokens} prompt${output} tokens`,
      };
    }
  }
  return undefined;
}

const PARAM: Record<Misfit["field"], string> = {
  context: "messages",
  max_tokens: "max_tokens",
  tools: "tools",
  dimensions: "dimensions",
};

/**
 * Keeps the candidates whose model can serve the request (context window, output limit, tools,
 * embedding dimensions). If none can, the error names each target and why: context_length_exceeded
 * when every target is too small for the prompt, invalid_request otherwise.
 */
export function filterByCapability(
  route: CompiledRoute,
  candidates: readonly Candidate[],
  needs: RequestNeeds,
): readonly Candidate[] {
  let fitting: Candidate[] | undefined;
  const misfits: Array<{ candidate: Candidate; misfit: Misfit }> = [];
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i]!;
    const found = misfit(candidate.model, needs);
    if (found) {
      fitting ??= candidates.slice(0, i);
      misfits.push({ candidate, misfit: found });
    } else {
      fitting?.push(candidate);
    }
  }
  if (!fitting) return candidates;
  if (fitting.length > 0) return fitting;
  const fields = new Set(misfits.map((m) => m.misfit.field));
  const onlyContext = fields.size === 1 && fields.has("context");
  const details = misfits.map((m) => `${m.candidate.key} ${m.misfit.reason}`).join("; ");
  const advice = onlyContext
    ? "shorten the prompt or lower max_tokens, or add a target with a larger context window"
    : "change the request or add a target that can serve it";
  throw new GatewayError(
    onlyContext ? "context_length_exceeded" : "invalid_request",
    `route ${route.id} has no target that can serve this request: ${details}; ${advice}`,
    { param: fields.size === 1 ? PARAM[[...fields][0]!] : undefined },
  );
}
