import { formatDuration } from "./duration-format.js";

/** Characters per token for an estimate before anything is sent (about right for English). */
const CHARS_PER_TOKEN = 4;

export interface PlanEstimate {
  rows: number;
  estimatedTokens: number;
  estimatedCostUsd?: string;
  estimatedDuration?: string;
}

export function estimateTokens(characters: number): number {
  return Math.ceil(characters / CHARS_PER_TOKEN);
}

/**
 * The plan shown before any row is embedded: tokens from the text length, cost from the
 * target model's input price, duration from the request rate (unknown without one: the
 * gateway's speed is measured once running, as rowsPerSecond and eta).
 */
export function estimatePlan(input: {
  rows: number;
  estimatedTokens: number;
  batchSize: number;
  requestsPerMinute?: number;
  inputPricePer1M?: number;
}): PlanEstimate {
  const { estimatedTokens } = input;
  const plan: PlanEstimate = { rows: input.rows, estimatedTokens };
  if (input.inputPricePer1M !== undefined) {
    plan.estimatedCostUsd = formatUsd((estimatedTokens / 1_000_000) * input.inputPricePer1M);
  }
  if (input.requestsPerMinute) {
    const requests = Math.ceil(input.rows / input.batchSize);
    plan.estimatedDuration = formatDuration((requests / input.requestsPerMinute) * 60_000);
  }
  return plan;
}

/** Cents for ordinary amounts, two significant digits below a cent so small runs do not read 0.00. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "0";
  if (usd < 0.01) return String(Number(usd.toPrecision(2)));
  return usd.toFixed(2);
}
