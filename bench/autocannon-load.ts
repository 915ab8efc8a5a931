import autocannon from "autocannon";
import { percentile } from "./percentile.js";

/**
 * Load from autocannon, closed-loop (each connection sends its next request when the last one
 * ended) or at a fixed overall rate. Latencies are taken from its per-response event as floats:
 * its own histogram rounds to whole milliseconds, too coarse for sub-millisecond overheads.
 */

export interface LoadSpec {
  origin: string;
  path: string;
  body: string;
  headers?: Record<string, string>;
  connections: number;
  durationS: number;
  /** Requests per second over all connections; closed-loop without it. */
  rate?: number;
}

export interface LoadResult {
  requestsPerS: number;
  /** Non-2xx answers, socket errors and timeouts. */
  failed: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
}

export async function load(spec: LoadSpec): Promise<LoadResult> {
  const latencies: number[] = [];
  let done!: (result: autocannon.Result) => void;
  let fail!: (err: unknown) => void;
  const finished = new Promise<autocannon.Result>((resolve, reject) => ((done = resolve), (fail = reject)));
  const instance = autocannon(
    {
      url: spec.origin + spec.path,
      method: "POST",
      headers: { "content-type": "application/json", ...spec.headers },
      body: spec.body,
      connections: spec.connections,
      duration: spec.durationS,
      overallRate: spec.rate,
      timeout: 10,
    },
    (err: unknown, result: autocannon.Result) => (err ? fail(err) : done(result)),
  );
  instance.on("response", (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
  });
  const result = await finished;
  const sorted = Float64Array.from(latencies).sort();
  const ok = sorted.length;
  return {
    requestsPerS: ok / spec.durationS,
    failed: result.non2xx + result.errors + result.timeouts,
    p50Ms: ok ? percentile(sorted, 50) : NaN,
    p90Ms: ok ? percentile(sorted, 90) : NaN,
    p99Ms: ok ? percentile(sorted, 99) : NaN,
    meanMs: ok ? sorted.reduce((a, b) => a + b, 0) / ok : NaN,
  };
}
