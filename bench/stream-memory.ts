import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { Agent, request } from "undici";
import { startGateway, startScript, statusMiB, stop } from "./bench-processes.js";

/**
 * Gateway memory under many slow SSE streams at once, and after them: `switchboard gateway` from
 * the built CLI in front of bench/slow-upstream.ts (one word a second), each its own process,
 * with the streams opened from this process. RSS is read from /proc, the V8 heap from the
 * gateway's own /metrics. With `soak`, the streams are kept up for SOAK_MINUTES: each one that
 * ends is replaced at once.
 */

export const STREAMS = 1000;
export const GAP_MS = 1000;
export const WORDS = 30;
export const SOAK_MINUTES = 10;
const WARMUP_STREAMS = 100;
const SETTLE_MS = 10_000;
const AFTER_MS = 60_000;
const MODEL = "bench-slow";

const MANIFESTS = (upstream: string) => `apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMProvider
metadata:
  name: slow
  namespace: bench
spec:
  type: openai-compatible
  endpoint: ${upstream}/v1
  credentials:
    none: {}
  models:
    - name: ${MODEL}
  healthCheck:
    probe: none
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMRoute
metadata:
  name: slow
  namespace: bench
spec:
  model: ${MODEL}
  targets:
    - provider: slow
      model: ${MODEL}
`;

const BODY = JSON.stringify({
  model: MODEL,
  stream: true,
  messages: [{ role: "user", content: "Write thirty words, slowly." }],
});

export interface MemorySample {
  atS: number;
  rssMiB: number;
  heapUsedMiB: number;
  open: number;
}

export interface StreamMemoryResult {
  streams: number;
  soakMinutes: number;
  idleRssMiB: number;
  idleHeapMiB: number;
  /** Highest RSS while all streams were open (for soak: over the whole soak). */
  peakRssMiB: number;
  peakHeapMiB: number;
  /** Median RSS per minute of the soak. */
  soakRssByMinute: number[];
  after10sRssMiB: number;
  after60sRssMiB: number;
  after60sHeapMiB: number;
  failed: number;
  completed: number;
  firstByteP99Ms: number;
  samples: MemorySample[];
  loadAverage: number;
  wallS: number;
}

async function heapUsedMiB(adminOrigin: string): Promise<number> {
  const res = await request(`${adminOrigin}/metrics`);
  const text = await res.body.text();
  const match = /^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m.exec(text);
  return match ? Number(match[1]) / 2 ** 20 : NaN;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

export async function runStreamMemoryBench(soak: boolean): Promise<StreamMemoryResult> {
  const started = Date.now();
  const loadAverage = loadavg()[0]!;
  const dir = await mkdtemp(path.join(tmpdir(), "switchboard-bench-"));
  const upstream = await startScript("slow-upstream.ts", {
    BENCH_GAP_MS: String(GAP_MS),
    BENCH_WORDS: String(WORDS),
  });
  await writeFile(path.join(dir, "manifests.yaml"), MANIFESTS(upstream.origin));
  const gateway = await startGateway(dir);
  const pid = gateway.child.pid!;
  const client = new Agent({ connections: STREAMS * 2, keepAliveTimeout: 1000 });
  let open = 0;
  let failed = 0;
  let completed = 0;
  const firstByteMs: number[] = [];

  async function oneStream(): Promise<void> {
    const t0 = performance.now();
    open++;
    try {
      const res = await request(`${gateway.origin}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: BODY,
        dispatcher: client,
        headersTimeout: 120_000,
        bodyTimeout: 120_000,
      });
      firstByteMs.push(performance.now() - t0);
      let text = "";
      for await (const chunk of res.body) text += String(chunk);
      if (res.statusCode === 200 && text.includes("[DONE]")) completed++;
      else failed++;
    } catch {
      failed++;
    } finally {
      open--;
    }
  }

  const samples: MemorySample[] = [];
  const sample = async () => {
    const s = {
      atS: (Date.now() - started) / 1000,
      rssMiB: statusMiB(pid, "VmRSS"),
      heapUsedMiB: await heapUsedMiB(gateway.adminOrigin),
      open,
    };
    samples.push(s);
    return s;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  try {
    // Warm up the code paths, then let the process settle: that is the idle level.
    await Promise.all(Array.from({ length: WARMUP_STREAMS }, oneStream));
    await sleep(SETTLE_MS);
    const idle = await sample();
    failed = 0;
    completed = 0;
    firstByteMs.length = 0;

    let loadFrom = 0;
    let running = true;
    const sampler = (async () => {
      while (running) {
        await sample();
        await sleep(soak ? 5000 : 1000);
      }
    })();
    loadFrom = samples.length;
    if (soak) {
      const until = Date.now() + SOAK_MINUTES * 60_000;
      await Promise.all(
        Array.from({ length: STREAMS }, async () => {
          while (Date.now() < until) await oneStream();
        }),
      );
    } else {
      await Promise.all(Array.from({ length: STREAMS }, oneStream));
    }
    running = false;
    await sampler;
    const during = samples.slice(loadFrom);
    const full = soak ? during : during.filter((s) => s.open >= STREAMS * 0.99);
    const plateau = full.length > 0 ? full : during;
    const peak = plateau.reduce((a, b) => (b.rssMiB > a.rssMiB ? b : a));
    const soakRssByMinute: number[] = [];
    if (soak) {
      const soakStart = during[0]!.atS;
      for (let m = 0; m < SOAK_MINUTES; m++) {
        const inMinute = during.filter(
          (s) => s.atS >= soakStart + m * 60 && s.atS < soakStart + (m + 1) * 60,
        );
        soakRssByMinute.push(median(inMinute.map((s) => s.rssMiB)));
      }
    }
    const ended = Date.now();
    await sleep(ended + 10_000 - Date.now());
    const after10 = await sample();
    await sleep(ended + AFTER_MS - Date.now());
    const after60 = await sample();
    const sortedFirst = [...firstByteMs].sort((a, b) => a - b);
    return {
      streams: STREAMS,
      soakMinutes: soak ? SOAK_MINUTES : 0,
      idleRssMiB: idle.rssMiB,
      idleHeapMiB: idle.heapUsedMiB,
      peakRssMiB: peak.rssMiB,
      peakHeapMiB: Math.max(...plateau.map((s) => s.heapUsedMiB)),
      soakRssByMinute,
      after10sRssMiB: after10.rssMiB,
      after60sRssMiB: after60.rssMiB,
      after60sHeapMiB: after60.heapUsedMiB,
      failed,
      completed,
      firstByteP99Ms: sortedFirst[Math.floor(sortedFirst.length * 0.99)] ?? NaN,
      samples,
      loadAverage,
      wallS: (Date.now() - started) / 1000,
    };
  } finally {
    await client.close();
    await Promise.all([stop(gateway.child), stop(upstream.child)]);
    await rm(dir, { recursive: true, force: true });
  }
}
