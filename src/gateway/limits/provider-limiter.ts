import type { CompiledModel, CompiledProvider } from "../../shared/schemas/gateway-config.js";
import type { SharedState } from "../shared-state/shared-state.js";
import { LimitExceededError } from "./limit-exceeded-error.js";

/** Held while an upstream call runs; `finish` pays for the tokens actually used and frees the slot. */
export interface ProviderPermit {
  finish(actualTokens?: number): Promise<void>;
}

const NO_LIMITS: ProviderPermit = { finish: async () => {} };
const MINUTE_MS = 60_000;
/** A leased slot outlives the call's total deadline a little, in case the holder died. */
const LEASE_GRACE_MS = 5_000;

/**
 * spec.limits of an LLMProvider, enforced per (provider, model): requests per minute and tokens
 * per minute as token buckets, and a cap on calls in flight. Tokens are reserved from an estimate
 * before the call and corrected with the upstream's usage afterwards.
 */
export class ProviderLimiter {
  constructor(private readonly state: SharedState) {}

  async acquire(
    provider: CompiledProvider,
    model: CompiledModel,
    estimatedTokens: number,
  ): Promise<ProviderPermit> {
    const { requestsPerMinute: rpm, tokensPerMinute: tpm, maxConcurrency } = provider.limits;
    if (rpm === undefined && tpm === undefined && maxConcurrency === undefined) return NO_LIMITS;
    const target = `${provider.id}/${model.name}`;
    const leaseKey = `lease:provider:${target}`;
    let leaseId: string | undefined;
    let reservedTokens = 0;
    let tookRequest = false;
    const undo = async () => {
      if (tookRequest) await this.state.takeTokens(`rpm:provider:${target}`, perMinute(rpm!), -1, "force");
      if (leaseId) await this.state.releaseLease(leaseKey, leaseId);
    };

    if (maxConcurrency !== undefined) {
      leaseId = await this.state.acquireLease(
        leaseKey,
        maxConcurrency,
        provider.timeouts.totalMs + LEASE_GRACE_MS,
      );
      if (!leaseId) {
        throw new LimitExceededError(
          "provider",
          `${target} already has ${maxConcurrency} requests in flight (spec.limits.maxConcurrency of LLMProvider ${provider.id}); retry shortly`,
          1000,
          provider.id,
        );
      }
    }
    if (rpm !== undefined) {
      const taken = await this.state.takeTokens(`rpm:provider:${target}`, perMinute(rpm), 1, "try");
      if (!taken.allowed) {
        await undo();
        throw new LimitExceededError(
          "provider",
          `${target} is at its limit of ${rpm} requests per minute (spec.limits.requestsPerMinute of LLMProvider ${provider.id})`,
          taken.retryAfterMs,
          provider.id,
        );
      }
      tookRequest = true;
    }
    if (tpm !== undefined) {
      const taken = await this.state.takeTokens(
        `tpm:provider:${target}`,
        perMinute(tpm),
        estimatedTokens,
        "try",
      );
      if (!taken.allowed) {
        await undo();
        throw new LimitExceededError(
          "provider",
          `${target} is at its limit of ${tpm} tokens per minute (spec.limits.tokensPerMinute of LLMProvider ${provider.id})`,
          taken.retryAfterMs,
          provider.id,
        );
      }
      reservedTokens = estimatedTokens;
    }

    let finished = false;
    return {
      finish: async (actualTokens) => {
        if (finished) return;
        finished = true;
        if (leaseId) await this.state.releaseLease(leaseKey, leaseId);
        const correction = (actualTokens ?? reservedTokens) - reservedTokens;
        if (tpm !== undefined && correction !== 0) {
          await this.state.takeTokens(`tpm:provider:${target}`, perMinute(tpm), correction, "force");
        }
      },
    };
  }
}

export function perMinute(limit: number): { capacity: number; refillPerMs: number } {
  return { capacity: limit, refillPerMs: limit / MINUTE_MS };
}
