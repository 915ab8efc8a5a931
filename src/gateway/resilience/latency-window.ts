/**
 * Latency of the most recent successful attempts of one target: a fixed ring of samples, so
 * percentiles follow the current behaviour instead of the whole uptime, and memory stays bounded.
 * Percentiles are computed on read (the admin endpoint), never on the request path.
 */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private count = 0;

  constructor(capacity = 512) {
    this.samples = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    if (this.count < this.samples.length) this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** Nearest-rank percentile (0 < p ≤ 100) of the window, or undefined before any sample. */
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const sorted = this.samples.slice(0, this.count).sort();
    const rank = Math.ceil((p / 100) * this.count);
    return sorted[Math.min(this.count, Math.max(1, rank)) - 1];
  }
}
