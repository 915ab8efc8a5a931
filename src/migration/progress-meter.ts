import { formatDuration } from "./duration-format.js";

/**
 * Throughput over a sliding window of recent samples (not since start, so a pause or a slow
 * start does not drag the number for the rest of the run), and the time left at that rate.
 */
export class ProgressMeter {
  private samples: Array<{ at: number; processed: number }> = [];

  constructor(
    private readonly windowMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  record(processed: number): void {
    const at = this.now();
    this.samples.push({ at, processed });
    while (this.samples.length > 2 && this.samples[0]!.at < at - this.windowMs) this.samples.shift();
  }

  /** Forget the window, e.g. after a pause. */
  reset(): void {
    this.samples = [];
  }

  rowsPerSecond(): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at - first.at < 500) return undefined;
    return ((last.processed - first.processed) * 1000) / (last.at - first.at);
  }

  eta(remaining: number): string | undefined {
    const rate = this.rowsPerSecond();
    if (remaining <= 0) return "0s";
    if (!rate) return undefined;
    return formatDuration((remaining / rate) * 1000);
  }
}

/** Rows per second as status shows it: one decimal. */
export function formatRate(rate: number): string {
  return rate.toFixed(1);
}
