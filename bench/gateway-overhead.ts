import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { Pool } from "undici";
import { writeBenchManifests } from "./bench-manifests.js";
import {
  CLOCK_TICKS_PER_S,
  cpuSeconds,
  startGateway,
  startUpstream,
  statusMiB,
  stop,
} from "./bench-processes.js";
import { percentile } from "./percentile.js";

/**
 * The latency the gateway adds and its throughput: `switchboard gateway` from the real CLI and
 * an instant OpenAI-compatible upstream, each its own process, loaded from this process with
 * undici at a fixed concurrency, once through the gateway and once straight at the upstream.
 */

export const CONCURRENCIES = [16, 64] as const;
export const REQUESTS = 8000;
export const WARMUP = 1000;
/** Requests through the gateway before any measurement, so its code is optimised by then. */
const GATEWAY_WARMUP = 3000;
const MODEL = "bench-chat";
/** Chat completions, and the Responses API translated to the same upstream chat call. */
export type Api = "chat" | "responses";
const PATHS: Record<Api, string> = { chat: "/v1/chat/completions", responses: "/v1/responses" };
/** What ends a complete stream of each API. */
const STREAM_END: Record<Api, string> = { chat: "data: [DONE]", responses: "event: response.completed" };

function requestBody(stream: boolean, api: Api = "chat"): string {
  if (api === "responses") {
    return JSON.stringify({
      model: MODEL,
      instructions: "You are a helpful assistant.",
      input: "Say something short about benchmarks.",
      max_output_tokens: 64,
      ...(stream ? { stream: true } : {}),
    });
  }
  return JSON.stringify({
    model: MODEL,
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "Say something short about benchmarks." },
    ],
    max_tokens: 64,
    // Asked of both targets, so the upstream sends the same stream either way (the gateway asks for usage).
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

export interface LoadResult {
  requests: number;
  errors: number;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU of each process during the run, in % of one core. */
  cpu: { gateway?: number; upstream: number; client: number; machine: number };
}

export interface Scenario {
  /** The client API through the gateway; direct is always the upstream's chat call. */
  api: Api;
  stream: boolean;
  concurrency: number;
  direct: LoadResult;
  gateway: LoadResult;
  /** switchboard_gateway_overhead_seconds over this run, estimated from its buckets. */
  metricP50Ms: number;
  metricP99Ms: number;
}

export interface GatewayOverheadResult {
  scenarios: Scenario[];
  idleRssMiB: number;
  rssMiB: number;
  peakRssMiB: number;
  wallS: number;
  /** The machine's 1-minute load average when the benchmark started: other work competes for the cores. */
  loadAverage: number;
}

/** Busy CPU seconds of the whole machine so far, all cores and all processes. */
function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS_PER_S;
}

/** `count` requests from `concurrency` workers, each sending its next request once the last one ended. */
async function drive(
  pool: Pool,
  api: Api,
  stream: boolean,
  concurrency: number,
  count: number,
): Promise<{ latencies: Float64Array; errors: number; elapsedS: number }> {
  const body = requestBody(stream, api);
  const latencies = new Float64Array(count);
  let next = 0;
  let errors = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const started = performance.now();
      try {
        const res = await pool.request({
          method: "POST",
          path: PATHS[api],
          headers: { "content-type": "application/json" },
          body,
        });
        const text = await res.body.text();
        if (res.statusCode !== 200 || (stream && !text.includes(STREAM_END[api]))) errors++;
      } catch {
        errors++;
      }
      latencies[i] = performance.now() - started;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, errors, elapsedS: (performance.now() - started) / 1000 };
}

/** One measured run on a warmed-up pool, with each process's CPU share over it. */
async function measure(
  pool: Pool,
  api: Api,
  stream: boolean,
  concurrency: number,
  pids: { gateway?: number; upstream: number },
): Promise<LoadResult> {
  const cpuBefore = {
    gateway: pids.gateway === undefined ? 0 : cpuSeconds(pids.gateway),
    upstream: cpuSeconds(pids.upstream),
    client: process.cpuUsage(),
    machine: machineBusySeconds(),
  };
  const run = await drive(pool, api, stream, concurrency, REQUESTS);
  const share = (seconds: number) => (100 * seconds) / run.elapsedS;
  const client = process.cpuUsage(cpuBefore.client);
  run.latencies.sort();
  return {
    requests: REQUESTS,
    errors: run.errors,
    requestsPerS: REQUESTS / run.elapsedS,
    p50Ms: percentile(run.latencies, 50),
    p99Ms: percentile(run.latencies, 99),
    cpu: {
      gateway: pids.gateway === undefined ? undefined : share(cpuSeconds(pids.gateway) - cpuBefore.gateway),
      upstream: share(cpuSeconds(pids.upstream) - cpuBefore.upstream),
      client: share((client.user + client.system) / 1e6),
      machine: share(machineBusySeconds() - cpuBefore.machine),
    },
  };
}

/** A pool of `concurrency` connections to `origin`, opened and warmed up by `count` requests. */
async function warmPool(
  origin: string,
  stream: boolean,
  concurrency: number,
  count = WARMUP,
  api: Api = "chat",
): Promise<Pool> {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1 });
  const warm = await drive(pool, api, stream, concurrency, count);
  if (warm.errors > 0) {
    await pool.close();
    throw new Error(`${warm.errors} of ${count} warm-up requests to ${origin} failed`);
  }
  return pool;
}

/** Cumulative bucket counts of the overhead histogram by upper bound, summed over its labels (admin listener). */
async function overheadBuckets(origin: string): Promise<Map<number, number>> {
  const res = await fetch(`${origin}/metrics`);
  const text = await res.text();
  const buckets = new Map<number, number>();
  for (const match of text.matchAll(
    /^switchboard_gateway_overhead_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm,
  )) {
    const le = match[1] === "+Inf" ? Infinity : Number(match[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(match[2]));
  }
  if (buckets.size === 0) throw new Error("no switchboard_gateway_overhead_seconds buckets in /metrics");
  return buckets;
}

/** A quantile of the observations between two scrapes, interpolated as PromQL's histogram_quantile does. */
function histogramQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const total = cumulative[cumulative.length - 1]!;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i]! < rank) continue;
    const upper = bounds[i]!;
    if (upper === Infinity) return bounds[i - 1]!;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    const below = i === 0 ? 0 : cumulative[i - 1]!;
    const inBucket = cumulative[i]! - below;
    return lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket);
  }
  return NaN;
}

export async function runGatewayOverheadBench(): Promise<GatewayOverheadResult> {
  const started = performance.now();
  const loadAverage = loadavg()[0]!;
  const dir = await mkdtemp(path.join(tmpdir(), "switchboard-bench-"));
  const upstream = await startUpstream();
  let gateway: { child: ChildProcess; origin: string; adminOrigin: string } | undefined;
  try {
    const upstreamPid = upstream.child.pid!;
    await writeBenchManifests(dir, upstream.origin, MODEL, "chat");
    gateway = await startGateway(dir);
    const gatewayPid = gateway.child.pid!;
    const idleRssMiB = statusMiB(gatewayPid, "VmRSS");
    for (const api of ["chat", "responses"] as const)
      for (const stream of [false, true])
        await (await warmPool(gateway.origin, stream, 16, GATEWAY_WARMUP, api)).close();
    const pids = { gateway: gatewayPid, upstream: upstreamPid };
    const scenarios: Scenario[] = [];
    for (const [api, stream] of [
      ["chat", false],
      ["chat", true],
      ["responses", false],
      ["responses", true],
    ] as const) {
      for (const concurrency of CONCURRENCIES) {
        const directPool = await warmPool(upstream.origin, stream, concurrency);
        const direct = await measure(directPool, "chat", stream, concurrency, { upstream: upstreamPid });
        await directPool.close();
        const gatewayPool = await warmPool(gateway.origin, stream, concurrency, WARMUP, api);
        const before = await overheadBuckets(gateway.adminOrigin);
        const viaGateway = await measure(gatewayPool, api, stream, concurrency, pids);
        const after = await overheadBuckets(gateway.adminOrigin);
        await gatewayPool.close();
        scenarios.push({
          api,
          stream,
          concurrency,
          direct,
          gateway: viaGateway,
          metricP50Ms: histogramQuantile(before, after, 0.5) * 1000,
          metricP99Ms: histogramQuantile(before, after, 0.99) * 1000,
        });
      }
    }
    return {
      scenarios,
      idleRssMiB,
      rssMiB: statusMiB(gatewayPid, "VmRSS"),
      peakRssMiB: statusMiB(gatewayPid, "VmHWM"),
      wallS: (performance.now() - started) / 1000,
      loadAverage,
    };
  } finally {
    if (gateway) await stop(gateway.child);
    await stop(upstream.child);
    await rm(dir, { recursive: true, force: true });
  }
}
