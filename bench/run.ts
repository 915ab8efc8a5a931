import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeSection } from "./benchmarks-doc.js";
import { machineInfo } from "./machine-info.js";
import { PROVIDERS, ROUTES, TARGET_P99_US, runRoutingDecisionBench } from "./routing-decision.js";
import {
  CONCURRENCIES,
  REQUESTS,
  WARMUP,
  runGatewayOverheadBench,
  type Scenario,
} from "./gateway-overhead.js";
import { BATCH_SIZE, DIMENSIONS, runMigrationBench } from "./migration-throughput.js";
import { writeFile } from "node:fs/promises";
import { runPeersBench } from "./peers.js";
import { GAP_MS, WORDS, runStreamMemoryBench } from "./stream-memory.js";
import {
  CONCURRENCY as SDK_CONCURRENCY,
  REQUESTS as SDK_REQUESTS,
  ROUNDS as SDK_ROUNDS,
  runSdkTransportBench,
} from "./sdk-transport.js";
import { peersMarkdown, saturated } from "./peers-doc.js";
import { latencyPlot } from "./latency-plot.js";

/**
 * `npm run bench`: runs the benchmarks in bench/ and records each in docs/benchmarks.md;
 * `npm run bench -- <name>...` runs only the named ones; `--full` runs the peers benchmark
 * longer (10 s per measurement, 1,000 streams) than its default of a few minutes; `--soak` keeps
 * stream-memory's streams up for ten minutes.
 */

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "docs", "benchmarks.md");
const COMMAND = "npm run bench";

const fmt = (us: number) => us.toFixed(2);

async function routingDecision(): Promise<void> {
  const r = runRoutingDecisionBench();
  const verdict = r.p99Us <= TARGET_P99_US ? "meets" : "MISSES";
  const markdown = `## Routing decision

One decision as a request meets it: resolve the route by model name or alias, estimate the
request's tokens, filter targets by data-residency policy and capability (context window, max
output, tools), order them by the route's strategy (all five strategies, equally mixed; half of
the targets with latency history for least-latency), and take the first admitted target's
circuit permit. ${PROVIDERS} providers × 3 models, ${ROUTES} routes of 2–5 targets each, 1 024
distinct requests, ${r.samples.toLocaleString("en")} timed decisions after 50 000 warm-up ones.
Code: \`bench/routing-decision.ts\`.

| p50 | p90 | p99 | p99.9 | max | mean |
| --- | --- | --- | --- | --- | --- |
| ${fmt(r.p50Us)} µs | ${fmt(r.p90Us)} µs | ${fmt(r.p99Us)} µs | ${fmt(r.p999Us)} µs | ${fmt(r.maxUs)} µs | ${fmt(r.meanUs)} µs |

Target: p99 ≤ ${TARGET_P99_US} µs per decision — this run ${verdict} it. Timings include
\`process.hrtime.bigint()\` overhead; the tail beyond p99 also catches garbage-collection pauses
and the process being descheduled, so it varies from run to run.

- Command: \`${COMMAND}\`
- Machine: ${machineInfo()}
- Date: ${new Date().toISOString().slice(0, 10)}
`;
  await writeSection(DOC, "routing-decision", markdown);
  process.stdout.write(
    `routing decision: p50 ${fmt(r.p50Us)} µs, p99 ${fmt(r.p99Us)} µs, p99.9 ${fmt(r.p999Us)} µs (${verdict} the ${TARGET_P99_US} µs target)\n`,
  );
}

const ms = (value: number) => value.toFixed(2);
const ms1 = (value: number) => value.toFixed(1);

async function gatewayOverhead(): Promise<void> {
  const r = await runGatewayOverheadBench();
  const kind = (s: Scenario) =>
    `${s.api === "responses" ? "Responses API, " : ""}${s.stream ? "SSE stream" : "non-streaming"}`;
  const latencyRows = r.scenarios.map(
    (s) =>
      `| ${kind(s)} | ${s.concurrency} | ${Math.round(s.gateway.requestsPerS).toLocaleString("en")} | ` +
      `${Math.round(s.direct.requestsPerS).toLocaleString("en")} | ${ms(s.gateway.p50Ms)} / ${ms(s.gateway.p99Ms)} | ` +
      `${ms(s.direct.p50Ms)} / ${ms(s.direct.p99Ms)} | **${ms(s.gateway.p50Ms - s.direct.p50Ms)} / ` +
      `${ms(s.gateway.p99Ms - s.direct.p99Ms)}** | ${s.gateway.errors + s.direct.errors} |`,
  );
  const pct = (value: number) => `${Math.round(value)}%`;
  const others = (cpu: Scenario["direct"]["cpu"]) =>
    pct(Math.max(0, cpu.machine - (cpu.gateway ?? 0) - cpu.upstream - cpu.client));
  const insideRows = r.scenarios.map(
    (s) =>
      `| ${kind(s)} | ${s.concurrency} | ${ms(s.metricP50Ms)} / ${ms(s.metricP99Ms)} | ` +
      `${pct(s.gateway.cpu.gateway ?? 0)} / ${pct(s.gateway.cpu.upstream)} / ${pct(s.gateway.cpu.client)} / ${others(s.gateway.cpu)} | ` +
      `${pct(s.direct.cpu.upstream)} / ${pct(s.direct.cpu.client)} / ${others(s.direct.cpu)} |`,
  );
  const markdown = `## Gateway overhead

What a request pays for going through the gateway, and how many it passes per second. Three
processes on loopback: \`switchboard gateway --manifests <dir> --port 0 --admin-port 0\` run from
the image's build (\`npm run build\`, then \`node dist/cli.js\` with no transpiler in the process), with
one LLMProvider (openai-compatible, no credentials) and one LLMRoute to it, memory shared state,
no cache, logging at \`info\` (one JSON line per request, to a file); an OpenAI-compatible upstream
that answers at once with a fixed 8-word reply (\`bench/instant-upstream.ts\`); and the load
generator, this process, using undici with a fixed number of concurrent workers over keep-alive
HTTP/1.1 connections, each sending its next request as soon as the last one has ended. A
non-streaming request and an SSE stream (\`stream_options.include_usage\`; latency is to the last
byte, \`[DONE]\`), each at ${CONCURRENCIES.join(" and ")} concurrent requests: ${REQUESTS.toLocaleString("en")}
timed requests after ${WARMUP.toLocaleString("en")} warm-up ones, once straight at the upstream
(direct) and once through the gateway. The same calls again as Responses API requests
(\`POST /v1/responses\`, \`instructions\` and \`input\`; a stream ends at \`response.completed\`), which
the gateway translates to the same upstream chat call: their direct baseline is that chat call.
Code: \`bench/gateway-overhead.ts\`.

| request | concurrency | req/s via gateway | req/s direct | latency via gateway p50 / p99 (ms) | direct p50 / p99 (ms) | added p50 / p99 (ms) | errors |
| --- | --- | --- | --- | --- | --- | --- | --- |
${latencyRows.join("\n")}

Inside the gateway during the same runs: \`switchboard_gateway_overhead_seconds\` from
\`/metrics\` (its buckets' difference over the run, interpolated like PromQL's
\`histogram_quantile\`), and the CPU time used over each run in % of one core, 200% being both
(from \`/proc/<pid>/stat\`, \`process.cpuUsage()\` and \`/proc/stat\`; "others" is the rest of the
machine's busy time: processes outside this benchmark and the kernel's network work not charged to
a process).

| request | concurrency | overhead metric p50 / p99 (ms) | CPU via gateway: gateway / upstream / load generator / others | CPU direct: upstream / load generator / others |
| --- | --- | --- | --- | --- |
${insideRows.join("\n")}

Gateway RSS (\`VmRSS\` of its process): ${ms1(r.idleRssMiB)} MiB idle after start, ${ms1(r.rssMiB)} MiB after
the runs, ${ms1(r.peakRssMiB)} MiB peak (\`VmHWM\`).

How to read it: the load generator, the gateway and the upstream share the machine's 2 cores, with
whatever else runs on it ("others" above; the 1-minute load average was ${r.loadAverage.toFixed(2)} when
this run started), so these numbers are lower bounds of what the gateway does with cores of its
own; the gateway is one Node process, so one core bounds its throughput. The direct baseline uses
the core the gateway would otherwise take. "Added" is the difference between the percentiles of
two separate runs, not a per-request difference, and at a fixed concurrency it grows with the
queueing a slower server causes. It includes all the gateway does for a request: HTTP parsing,
validation, routing, the upstream call through its own connection pool, translating the answer,
metrics and the log line. Not included: TLS, consumer authentication (the route is open), rate
limits and budgets, the response cache, Redis, a real network and a real model's latency. The
overhead metric counts only a successful request's time in the gateway's handler outside upstream
calls; it leaves out HTTP parsing, waiting for the event loop and writing the response, which
the client-side "added" numbers include. The whole benchmark took ${Math.round(r.wallS)} s.

- Command: \`${COMMAND} -- gateway-overhead\` (or \`${COMMAND}\` for all)
- Machine: ${machineInfo()}
- Date: ${new Date().toISOString().slice(0, 10)}
`;
  await writeSection(DOC, "gateway-overhead", markdown);
  for (const s of r.scenarios) {
    process.stdout.write(
      `gateway overhead, ${kind(s)} ×${s.concurrency}: ${Math.round(s.gateway.requestsPerS)} req/s, ` +
        `added p50 ${ms(s.gateway.p50Ms - s.direct.p50Ms)} ms, p99 ${ms(s.gateway.p99Ms - s.direct.p99Ms)} ms\n`,
    );
  }
}

async function migrationThroughput(): Promise<void> {
  const r = await runMigrationBench();
  /** The first RSS sample with at least this share of the rows done. */
  const at = (share: number) => r.rss.find((s) => s.rows >= r.rows * share) ?? r.rss[r.rss.length - 1]!;
  const points = [0.1, 0.25, 0.5, 0.75, 1].map(at);
  const growth = points[points.length - 1]!.rssMiB - points[0]!.rssMiB;
  const markdown = `## Migration worker: rows per second and memory

The EmbeddingMigration worker re-embedding ${r.rows.toLocaleString("en")} rows of a Debian PostgreSQL table
into a \`real[]\` column (${DIMENSIONS} dimensions, batches of ${BATCH_SIZE}, no rate limit), through
\`switchboard gateway\` (built, its own process) in front of an upstream that answers every
embeddings request at once with a fixed vector (\`bench/instant-upstream.ts\`, its own process).
The worker (the code \`switchboard migrate\` runs, status kept in memory instead of an API server)
runs in the benchmark's process: each batch is a SELECT after the checkpoint, one gateway call
and one transaction writing the vectors and the checkpoint. Code: \`bench/migration-throughput.ts\`.

| rows | time | rows/s |
| --- | --- | --- |
| ${r.rows.toLocaleString("en")} | ${r.seconds.toFixed(1)} s | **${Math.round(r.rowsPerSecond).toLocaleString("en")}** |

Worker process RSS as the rows went by (flat means memory does not grow with the row count):

| rows done | ${points.map((p) => p.rows.toLocaleString("en")).join(" | ")} |
| --- | ${points.map(() => "---").join(" | ")} |
| RSS (MiB) | ${points.map((p) => p.rssMiB.toFixed(1)).join(" | ")} |

RSS at the end is ${(points[points.length - 1]!.rssMiB / points[0]!.rssMiB).toFixed(2)}× the RSS at ${points[0]!.rows.toLocaleString("en")} rows (${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MiB) for ${(r.rows / points[0]!.rows).toFixed(1)}× the rows;
peak ${r.peakRssMiB.toFixed(1)} MiB.
The 1-minute load average was ${r.loadAverage.toFixed(2)} when this run started: the worker, the
gateway, the upstream and PostgreSQL share the machine's cores with whatever else runs on it, so
rows/s is a lower bound of what the worker does on a quiet machine. A real embedding model's
latency, not the worker, bounds a real migration; \`spec.requestsPerMinute\` paces it.

- Command: \`${COMMAND} -- migration-throughput\` (or \`${COMMAND}\` for all)
- Machine: ${machineInfo()}
- Date: ${new Date().toISOString().slice(0, 10)}
`;
  await writeSection(DOC, "migration-throughput", markdown);
  process.stdout.write(
    `migration worker: ${Math.round(r.rowsPerSecond)} rows/s over ${r.rows} rows, RSS ${points[0]!.rssMiB.toFixed(1)} → ` +
      `${points[points.length - 1]!.rssMiB.toFixed(1)} MiB\n`,
  );
}

const PLOT = "peers-latency.svg";

async function peers(): Promise<void> {
  const full = process.argv.includes("--full");
  const r = await runPeersBench(full);
  const series = r.contenders.map((c) => ({
    name: c.name,
    points: c.rates.map((p) => ({ ...p, saturated: saturated(p) })),
  }));
  await writeFile(
    path.join(path.dirname(DOC), PLOT),
    latencyPlot("Non-streaming chat: p99 latency against offered load, one run", series),
  );
  await writeSection(DOC, "peers", peersMarkdown(r, `${COMMAND} -- peers`, machineInfo(), PLOT));
  const bare = r.contenders.find((c) => c.name === "bare Node proxy")!.closed!.requestsPerS;
  for (const c of r.contenders) {
    process.stdout.write(
      `peers, ${c.name}: ${Math.round(c.closed!.requestsPerS)} req/s closed-loop (${Math.round((100 * c.closed!.requestsPerS) / bare)}% of the bare proxy)\n`,
    );
  }
}

async function streamMemory(): Promise<void> {
  const soak = process.argv.includes("--soak");
  const r = await runStreamMemoryBench(soak);
  const above = (mib: number) =>
    `${mib.toFixed(1)} MiB (${mib >= r.idleRssMiB ? "+" : ""}${(mib - r.idleRssMiB).toFixed(1)})`;
  const back = ((r.after60sRssMiB / r.idleRssMiB - 1) * 100).toFixed(1);
  const id = soak ? "stream-memory-soak" : "stream-memory";
  const what = soak
    ? `${r.streams.toLocaleString("en")} slow SSE streams kept open for ${r.soakMinutes} minutes (each one that ends is replaced at once)`
    : `${r.streams.toLocaleString("en")} slow SSE streams opened at once`;
  const soakRows = soak
    ? `\nMedian RSS per minute of the soak (flat means no growth):\n\n| minute | ${r.soakRssByMinute.map((_, i) => i + 1).join(" | ")} |\n| --- | ${r.soakRssByMinute.map(() => "---").join(" | ")} |\n| RSS (MiB) | ${r.soakRssByMinute.map((v) => v.toFixed(1)).join(" | ")} |\n`
    : "";
  const markdown = `## Gateway memory under ${soak ? "a soak of " : ""}${r.streams.toLocaleString("en")} slow streams

${what}, through \`switchboard gateway\` (built, its own process, logging at \`info\`) to
\`bench/slow-upstream.ts\` (its own process), which sends one word every ${GAP_MS} ms, ${WORDS} words a
stream. The gateway is warmed up with 100 streams and left idle for 10 s first. RSS is \`VmRSS\`
from \`/proc\`; the V8 heap is \`nodejs_heap_size_used_bytes\` from the gateway's \`/metrics\`.
Code: \`bench/stream-memory.ts\`.

| | RSS | V8 heap used |
| --- | --- | --- |
| idle, before the streams | ${r.idleRssMiB.toFixed(1)} MiB | ${r.idleHeapMiB.toFixed(1)} MiB |
| highest with ${soak ? "the streams running" : "all streams open"} | ${above(r.peakRssMiB)} | ${r.peakHeapMiB.toFixed(1)} MiB |
| 10 s after the last stream ended | ${above(r.after10sRssMiB)} | |
| 60 s after the last stream ended | ${above(r.after60sRssMiB)}, ${back}% from idle | ${r.after60sHeapMiB.toFixed(1)} MiB |
${soakRows}
Streams completed: ${r.completed.toLocaleString("en")}, failed: ${r.failed}; time to the first byte p99
${(r.firstByteP99Ms / 1000).toFixed(2)} s. Target: at most 150 MiB above idle with the streams open, and
within 10% of idle a minute after they end. The 1-minute load average was ${r.loadAverage.toFixed(2)}
when this run started. The run took ${Math.round(r.wallS)} s.

- Command: \`${COMMAND} -- stream-memory${soak ? " --soak" : ""}\`
- Machine: ${machineInfo()}
- Date: ${new Date().toISOString().slice(0, 10)}
`;
  await writeSection(DOC, id, markdown);
  process.stdout.write(
    `stream memory${soak ? " soak" : ""}: idle ${r.idleRssMiB.toFixed(1)} MiB, peak ${r.peakRssMiB.toFixed(1)} MiB, ` +
      `60 s after ${r.after60sRssMiB.toFixed(1)} MiB (${back}%), ${r.failed} failed\n`,
  );
}

async function sdkTransport(): Promise<void> {
  const results = await runSdkTransportBench();
  const [transport, sdk] = results;
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${Math.round(r.requestsPerS).toLocaleString("en")} | ${Math.round(r.cpuUsPerRequest)} | ` +
      `${(r.cpuUsPerRequest / transport!.cpuUsPerRequest).toFixed(2)}× |`,
  );
  const markdown = `## Upstream client: official \`openai\` SDK against the undici transport

One non-streaming chat call to the instant upstream (\`bench/instant-upstream.ts\`, its own process)
from the benchmark's process, ${SDK_CONCURRENCY} at a time, ${SDK_REQUESTS.toLocaleString("en")} calls per round, the two clients
in ${SDK_ROUNDS} alternating rounds after a warm-up round each (means over the rounds): the gateway's
hand-written transport (\`sendUpstream\` + \`readJson\` of \`src/gateway/providers/upstream-http.ts\`,
an undici keep-alive pool) and \`client.chat.completions.create\` of the official SDK (global fetch,
\`maxRetries: 0\`). CPU is this process's user + system time per call. Code: \`bench/sdk-transport.ts\`.

| client | calls/s | CPU µs per call | CPU against the transport |
| --- | --- | --- | --- |
${rows.join("\n")}

Decision: ${
    sdk!.cpuUsPerRequest > transport!.cpuUsPerRequest
      ? `the hot path keeps the transport: the SDK costs ${(sdk!.cpuUsPerRequest / transport!.cpuUsPerRequest).toFixed(1)}× its CPU per call in this run`
      : `the SDK is not dearer in this run (${(sdk!.cpuUsPerRequest / transport!.cpuUsPerRequest).toFixed(2)}×), but the hot path keeps the transport`
  }, and with the SDK the gateway would still map its errors and streams into its own taxonomy and
turn its retries off (the gateway retries and fails over itself). The SDKs stay what the
end-to-end tests drive the gateway with.

- Command: \`${COMMAND} -- sdk-transport\`
- Machine: ${machineInfo()}
- Date: ${new Date().toISOString().slice(0, 10)}
`;
  await writeSection(DOC, "sdk-transport", markdown);
  for (const r of results)
    process.stdout.write(
      `sdk-transport, ${r.name}: ${Math.round(r.requestsPerS)} calls/s, ${Math.round(r.cpuUsPerRequest)} µs CPU per call\n`,
    );
}

const BENCHMARKS: Record<string, () => Promise<void>> = {
  "routing-decision": routingDecision,
  "gateway-overhead": gatewayOverhead,
  "migration-throughput": migrationThroughput,
  peers,
  "stream-memory": streamMemory,
  "sdk-transport": sdkTransport,
};

const selected = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const unknown = selected.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  throw new Error(`unknown benchmark ${unknown.join(", ")}; known: ${Object.keys(BENCHMARKS).join(", ")}`);
}
for (const [name, run] of Object.entries(BENCHMARKS)) {
  if (selected.length === 0 || selected.includes(name)) await run();
}
process.stdout.write(`results written to ${path.relative(process.cwd(), DOC)}\n`);
