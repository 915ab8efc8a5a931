import { describe, expect, it } from "vitest";
import type { CompiledModel, CompiledProvider } from "../../../../src/shared/schemas/gateway-config.js";
import { ProviderLimiter } from "../../../../src/gateway/limits/provider-limiter.js";
import { LimitExceededError } from "../../../../src/gateway/limits/limit-exceeded-error.js";
import { MemorySharedState } from "../../../../src/gateway/shared-state/memory-shared-state.js";
import { callWithinLimits } from "../../../../src/gateway/limits/limited-call.js";

function provider(limits: CompiledProvider["limits"]): CompiledProvider {
  return { id: "default/openai", limits, timeouts: { totalMs: 60_000 } } as CompiledProvider;
}
const model = { name: "gpt" } as CompiledModel;

function setup() {
  const clock = { now: 0 };
  const limiter = new ProviderLimiter(new MemorySharedState({ now: () => clock.now }));
  return { clock, limiter };
}

async function refusal(promise: Promise<unknown>): Promise<LimitExceededError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LimitExceededError);
  return err as LimitExceededError;
}

describe("ProviderLimiter", () => {
  it("caps calls in flight and frees the slot when the call finishes", async () => {
    const { limiter } = setup();
    const p = provider({ maxConcurrency: 1 });
    const permit = await limiter.acquire(p, model, 1);
    const err = await refusal(limiter.acquire(p, model, 1));
    expect(err.errorClass).toBe("rate_limit");
    expect(err.retryAfterSeconds).toBe(1);
    expect(err.message).toContain("spec.limits.maxConcurrency");
    await permit.finish(1);
    await limiter.acquire(p, model, 1);
  });

  it("enforces requests per minute per model, with Retry-After", async () => {
    const { limiter, clock } = setup();
    const p = provider({ requestsPerMinute: 60 });
    for (let i = 0; i < 60; i++) await limiter.acquire(p, model, 1);
    const err = await refusal(limiter.acquire(p, model, 1));
    expect(err.retryAfterSeconds).toBe(1);
    expect(err.provider).toBe("default/openai");
    // Another model of the same provider has its own buckets.
    await limiter.acquire(p, { name: "other" } as CompiledModel, 1);
    clock.now += 1_000;
    await limiter.acquire(p, model, 1);
  });

  it("refusing on tokens gives back the request slot and the concurrency lease", async () => {
    const { limiter } = setup();
    const p = provider({ requestsPerMinute: 2, tokensPerMinute: 100, maxConcurrency: 1 });
    const first = await limiter.acquire(p, model, 100);
    await first.finish(100);
    await refusal(limiter.acquire(p, model, 50));
    await refusal(limiter.acquire(p, model, 50));
    // Neither refusal used the second request of the minute nor kept the only lease.
    const second = await limiter.acquire(p, model, 0);
    await refusal(limiter.acquire(p, model, 0));
    await second.finish(0);
  });

  it("settles reserved tokens to the usage the upstream reported", async () => {
    const { limiter } = setup();
    const p = provider({ tokensPerMinute: 1_000 });
    const permit = await limiter.acquire(p, model, 900);
    await permit.finish(100);
    await limiter.acquire(p, model, 900);
  });

  it("gives everything back when the wrapped upstream call fails", async () => {
    const { limiter } = setup();
    const p = provider({ tokensPerMinute: 100, maxConcurrency: 1 });
    await expect(
      callWithinLimits(limiter, { provider: p, model }, 100, () =>
        Promise.reject(new Error("upstream down")),
      ),
    ).rejects.toThrow("upstream down");
    const permit = await limiter.acquire(p, model, 100);
    await permit.finish(100);
  });

  it("costs nothing for a provider without limits", async () => {
    const { limiter } = setup();
    const p = provider({});
    for (let i = 0; i < 1000; i++) await limiter.acquire(p, model, 1_000_000);
  });
});
