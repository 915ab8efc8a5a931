import type { CompiledModel, CompiledProvider } from "../../shared/schemas/gateway-config.js";
import type { AdmissionCheck, SharedState } from "../shared-state/shared-state.js";
import { LimitExceededError } from "./limit-exceeded-error.js";

/** Held while an upstream call runs; `finish` pays for the tokens actually used and frees the slot. */
export interface ProviderPermit {
  finish(actualTokens?: number): Promise<void>;
}

const NO_LIMITS: ProviderPermit = { finish: async () => {} };
const MINUTE_MS = 60_000;
/** A leased slot outlives the call's total deadline a little, in case the holder died. */
const LEASE_GRACE_MS = 5_000;

export function perMinute(limit: number): { capacity: number; refillPerMs: number } {
  return { capacity: limit, refillPerMs: limit / MINUTE_MS };
}

/**
 * spec.limits of an LLMProvider, enforced per (provider, model): requests per minute and tokens
 * per minute as token buckets, and a cap on calls in flight. Tokens are reserved from an estimate
 * before the call and corrected with the upstream's usage afterwards. The concurrency lease and
 * the two buckets (taken all or nothing) are sent at once: two commands, one round-trip time to
 * Redis. When the lease is refused, what the buckets took is given back.
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
    const keys = {
      lease: `lease:provider:${target}`,
      rpm: `rpm:provider:${target}`,
      tpm: `tpm:provider:${target}`,
    };
    const buckets: Array<{ check: Extract<AdmissionCheck, { kind: "bucket" }>; what: string }> = [];
    if (rpm !== undefined) {
      buckets.push({
        check: { kind: "bucket", key: keys.rpm, spec: perMinute(rpm), amount: 1 },
        what: `is at its limit of ${rpm} requests per minute (spec.limits.requestsPerMinute`,
      });
    }
    if (tpm !== undefined) {
      buckets.push({
        check: { kind: "bucket", key: keys.tpm, spec: perMinute(tpm), amount: estimatedTokens },
        what: `is at its limit of ${tpm} tokens per minute (spec.limits.tokensPerMinute`,
      });
    }
    const [leaseId, admitted] = await Promise.all([
      maxConcurrency === undefined
        ? undefined
        : this.state.acquireLease(keys.lease, maxConcurrency, provider.timeouts.totalMs + LEASE_GRACE_MS),
      this.state.admit(buckets.map((b) => b.check)),
    ]);
    const refusal =
      maxConcurrency !== undefined && !leaseId
        ? {
            what: `already has ${maxConcurrency} requests in flight (spec.limits.maxConcurrency`,
            retryAfterMs: 1000,
          }
        : !admitted.allowed
          ? { what: buckets[admitted.refusedBy]!.what, retryAfterMs: admitted.retryAfterMs }
          : undefined;
    if (refusal) {
      // The buckets took all or nothing; only the lease, or the buckets when the lease was refused, go back.
      await Promise.all([
        leaseId ? this.state.releaseLease(keys.lease, leaseId) : undefined,
        ...(admitted.allowed
          ? buckets.map(({ check }) => this.state.takeTokens(check.key, check.spec, -check.amount, "force"))
          : []),
      ]);
      throw new LimitExceededError(
        "provider",
        `${target} ${refusal.what} of LLMProvider ${provider.id}); retry after the time in Retry-After`,
        refusal.retryAfterMs,
        provider.id,
      );
    }

    const reservedTokens = tpm === undefined ? 0 : estimatedTokens;
    let finished = false;
    return {
      finish: async (actualTokens) => {
        if (finished) return;
        finished = true;
        const correction = (actualTokens ?? reservedTokens) - reservedTokens;
        await Promise.all([
          leaseId ? this.state.releaseLease(keys.lease, leaseId) : undefined,
          tpm !== undefined && correction !== 0
            ? this.state.takeTokens(keys.tpm, perMinute(tpm), correction, "force")
            : undefined,
        ]);
      },
    };
  }
}
