import type { CompiledModel, CompiledProvider } from "../../shared/schemas/gateway-config.js";
import type { ProviderPermit, ProviderLimiter } from "./provider-limiter.js";

export interface LimitedResult<T> {
  value: T;
  /** Finish with the tokens actually used once the answer is complete (for streams: at the end). */
  permit: ProviderPermit;
}

/**
 * One upstream attempt inside its provider's limits: takes a permit first (a refusal is a
 * LimitExceededError, so routing can fall back or the client gets 429 with Retry-After), and
 * gives it back, paying no tokens, if the attempt fails.
 */
export async function callWithinLimits<T>(
  limiter: ProviderLimiter,
  target: { provider: CompiledProvider; model: CompiledModel },
  estimatedTokens: number,
  call: () => Promise<T>,
): Promise<LimitedResult<T>> {
  const permit = await limiter.acquire(target.provider, target.model, estimatedTokens);
  try {
    return { value: await call(), permit };
  } catch (err) {
    await permit.finish(0);
    throw err;
  }
}
