import type { CompiledModel } from "../../shared/schemas/gateway-config.js";
import { costUsd } from "../usage/cost.js";

/**
 * What a request holds against token limits and budgets from admission until it settles: its
 * worst case, so requests in flight together can never pass a limit that each fits alone.
 */
export interface Reservation {
  /** The prompt, estimated (about 4 characters a token). */
  promptTokens: number;
  /** The most the answer may use. */
  outputTokens: number;
  /** Both at the prices of the most expensive model the request may reach. */
  usd: number;
}

/**
 * The most output a chat answer may have on a model: the least of max_tokens, the model's
 * maxOutputTokens and its context window less the prompt. 0 when none is known; the compiler
 * refuses limited routes and providers where that could happen.
 */
export function outputAllowance(model: CompiledModel, promptTokens: number, maxTokens?: number): number {
  if (model.kind === "embedding") return 0;
  const bounds = [maxTokens, model.maxOutputTokens];
  if (model.contextWindow !== undefined) bounds.push(Math.max(0, model.contextWindow - promptTokens));
  const known = bounds.filter((n): n is number => n !== undefined);
  return known.length > 0 ? Math.min(...known) : 0;
}

/** The worst case over every model the request may reach, fallbacks included. */
export function reserveFor(
  models: readonly CompiledModel[],
  promptTokens: number,
  maxTokens?: number,
): Reservation {
  let outputTokens = 0;
  let usd = 0;
  for (const model of models) {
    const output = outputAllowance(model, promptTokens, maxTokens);
    outputTokens = Math.max(outputTokens, output);
    usd = Math.max(usd, costUsd({ inputTokens: promptTokens, outputTokens: output }, model.pricing) ?? 0);
  }
  return { promptTokens, outputTokens, usd };
}
