import path from "node:path";
import { fileURLToPath } from "node:url";
import { writeSection } from "./benchmarks-doc.js";
import { machineInfo } from "./machine-info.js";
import { PROVIDERS, ROUTES, TARGET_P99_US, runRoutingDecisionBench } from "./routing-decision.js";

/** `npm run bench`: runs the benchmarks in bench/ and records each in docs/benchmarks.md. */

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

await routingDecision();
process.stdout.write(`results written to ${path.relative(process.cwd(), DOC)}\n`);
