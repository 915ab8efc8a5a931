import { setTimeout as sleep } from "node:timers/promises";

/**
 * Spaces request starts evenly to stay under requestsPerMinute (no bursts, so the gateway's
 * own limits and the provider's are never hit in a spike). Unlimited when no rate is set.
 * The rate can change while running (the spec was edited).
 */
export class RateLimiter {
  private nextStart = 0;

  constructor(
    private requestsPerMinute: number | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  setRate(requestsPerMinute: number | undefined): void {
    this.requestsPerMinute = requestsPerMinute;
  }

  /** How long the caller must wait before its request may start; reserves that slot. */
  reserve(): number {
    if (!this.requestsPerMinute) return 0;
    const now = this.now();
    const start = Math.max(now, this.nextStart);
    this.nextStart = start + 60_000 / this.requestsPerMinute;
    return start - now;
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await sleep(wait, undefined, { signal });
  }
}
