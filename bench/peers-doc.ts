import { CONNECTIONS, RATES, type ContenderResult, type PeersResult } from "./peers.js";
import type { LoadResult } from "./autocannon-load.js";
import { LITELLM_VERSION, PORTKEY_VERSION } from "./peer-processes.js";

/** The peers benchmark's section of docs/benchmarks.md, from one run's results. */

const int = (n: number) => (isFinite(n) ? Math.round(n).toLocaleString("en") : "–");
const ms = (n: number | undefined) => (n === undefined || !isFinite(n) ? "–" : n.toFixed(2));
const pct = (n: number) => (isFinite(n) ? `${Math.round(n)}%` : "–");
const added = (r: LoadResult | undefined, base: LoadResult | undefined) =>
  r && base && r !== base
    ? `${ms(r.p50Ms - base.p50Ms)} / ${ms(r.p90Ms - base.p90Ms)} / ${ms(r.p99Ms - base.p99Ms)}`
    : "–";
/** A fixed rate the contender did not keep up with (under 90% of it answered). */
export const saturated = (r: LoadResult & { rate: number }) => r.requestsPerS < 0.9 * r.rate;

export function peersMarkdown(r: PeersResult, command: string, machine: string, plotFile: string): string {
  const by = (name: string) => r.contenders.find((c) => c.name === name);
  const direct = by("direct")!;
  const bare = by("bare Node proxy")!;
  const share = (c: ContenderResult) =>
    c.closed && bare.closed ? (100 * c.closed.requestsPerS) / bare.closed.requestsPerS : NaN;
  const gateways = r.contenders.filter((c) => c.name !== "direct");
  const closedRows = r.contenders.map(
    (c) =>
      `| ${c.name} | ${int(c.closed?.requestsPerS ?? NaN)} | ${c.name === "direct" ? "–" : pct(share(c))} | ` +
      `${ms(c.closed?.cpuMsPerRequest)} | ${c.closed?.failed ?? "–"} | ${int(c.idleRssMiB)} / ${int(c.rssMiB)} |`,
  );
  const rateRows = RATES.flatMap((rate, i) =>
    gateways.map((c) => {
      const point = c.rates[i]!;
      const base = direct.rates[i]!;
      return (
        `| ${int(rate)} | ${c.name} | ${int(point.requestsPerS)}${saturated(point) ? " (saturated)" : ""} | ` +
        `${ms(point.meanMs - base.meanMs)} | ${added(point, base)} | ${point.failed} |`
      );
    }),
  );
  const directRates = direct.rates.map((p) => `${int(p.rate)}: ${ms(p.p50Ms)} / ${ms(p.p99Ms)}`).join("; ");
  const bareRates = bare.rates;
  const sb = by("Switchboard")!;
  const vsBare = RATES.map((rate, i) => {
    const s = sb.rates[i]!;
    const b = bareRates[i]!;
    return `| ${int(rate)} | ${ms(s.meanMs - b.meanMs)} | ${ms(s.p99Ms - b.p99Ms)} |`;
  });
  const streamRows = r.contenders.map((c) => {
    const slow = c.slowStreams;
    const base = direct.slowStreams;
    return (
      `| ${c.name} | ${int(c.stream?.requestsPerS ?? NaN)} | ${c.stream?.failed ?? "–"} | ` +
      `${slow && base && c.name !== "direct" ? `${ms(slow.ttftP50Ms - base.ttftP50Ms)} / ${ms(slow.ttftP99Ms - base.ttftP99Ms)}` : "–"} | ` +
      `${slow ? `${slow.failed}` : "–"} | ${slow ? int(slow.rssMiB) : "–"} |`
    );
  });
  const otherRows = r.contenders.map(
    (c) =>
      `| ${c.name} | ${c.cross ? `${int(c.cross.requestsPerS)} | ${added(c.cross, direct.cross)} | ${c.cross.failed}` : "not offered | – | –"} | ` +
      `${c.embed ? `${int(c.embed.requestsPerS)} | ${added(c.embed, direct.embed)} | ${c.embed.failed}` : "– | – | –"} |`,
  );
  const off = r.features[0];
  const featureRows = r.features.map(
    (f) =>
      `| ${f.name} | ${int(f.closed.requestsPerS)} | ${off ? pct((100 * f.closed.requestsPerS) / off.closed.requestsPerS) : "–"} | ` +
      `${ms(f.closed.p50Ms)} / ${ms(f.closed.p99Ms)} | ${f.closed.failed} |`,
  );
  return `## Switchboard beside its peers

One run, every contender started by the benchmark on loopback in front of the same instant
upstream (\`bench/instant-upstream.ts\`: OpenAI and Anthropic formats, a fixed 8-word answer, a
768-float embedding): a **direct** call to it; the **bare Node proxy** (\`bench/bare-proxy.ts\`:
parse the body, forward it through an undici pool, parse and re-serialise the answer, nothing
else — what Node itself allows); **Switchboard** (\`npm run build\`, \`node dist/cli.js gateway\`,
one provider and one route per model, routing, policy, circuits, metrics and the access log at
\`info\` on); **Portkey**'s gateway (\`@portkey-ai/gateway@${PORTKEY_VERSION}\` from npm, in
~/.cache/switchboard/bench-peers, \`--headless\`, \`NODE_ENV=production\`, upstream named per request
by its \`x-portkey-provider\` and \`x-portkey-custom-host\` headers); and the **LiteLLM** proxy
(\`litellm[proxy]==${LITELLM_VERSION}\` in a venv there, one worker, default settings, a master key,
\`LITELLM_LOCAL_MODEL_COST_MAP=True\`). Load from autocannon (${CONNECTIONS} connections,
keep-alive) in the benchmark's process; latencies are per response, to the last byte. Scenario
by scenario, the contenders take turns, so a change in the machine's load hits all alike.
Portkey answers SSE streams and embeddings through a custom host with a 500 "Something went
wrong" (its log: \`TypeError: immutable\` as it appends its headers to the upstream's response,
whose headers Node's fetch makes immutable): those rows count its failures, not its speed.
${r.notInstalled.length ? `\nNot measured in this run: ${r.notInstalled.join("; ")}.\n` : ""}
### Closed loop, non-streaming

${r.durations.closedS} s each after a ${r.durations.warmS} s warm-up; every connection sends its next request when the last one ended.

| contender | req/s | share of the bare proxy | CPU ms per request | failed | RSS idle / after the run (MiB) |
| --- | --- | --- | --- | --- | --- |
${closedRows.join("\n")}

### Fixed rates, non-streaming

${r.durations.rateS} s at each rate. Added latency is the contender's percentile less the direct
call's at the same rate in the same run (direct p50 / p99 in ms — ${directRates}).
![p99 latency against offered load](${plotFile})

| rate (req/s) | contender | answered req/s | added mean (ms) | added p50 / p90 / p99 (ms) | failed |
| --- | --- | --- | --- | --- | --- |
${rateRows.join("\n")}

Switchboard over the bare proxy, same rates (targets: mean ≤ 0.3 ms at 500 req/s, p99 ≤ 1 ms):

| rate (req/s) | mean over the bare proxy (ms) | p99 over the bare proxy (ms) |
| --- | --- | --- |
${vsBare.join("\n")}

### Streams

SSE closed loop (\`stream_options.include_usage\`, to \`[DONE]\`), ${r.durations.closedS} s; then
${r.streams.toLocaleString("en")} slow streams at once (events 50 ms apart, about 0.6 s each):
time to the first byte added over the direct call, and the contender's peak RSS while they are open.

| contender | SSE req/s | failed | TTFT added p50 / p99 (ms) | slow streams failed | RSS with ${r.streams.toLocaleString("en")} streams (MiB) |
| --- | --- | --- | --- | --- | --- |
${streamRows.join("\n")}

### Cross-format and embeddings

Cross-format: an OpenAI-format client, an Anthropic-format upstream (\`/v1/messages\`); the direct
row calls the upstream in its own format. Embeddings: one input, a 768-float answer.
${r.durations.closedS} s closed loop each.

| contender | cross-format req/s | added p50 / p90 / p99 (ms) | failed | embeddings req/s | added p50 / p90 / p99 (ms) | failed |
| --- | --- | --- | --- | --- | --- | --- |
${otherRows.join("\n")}

### What Switchboard's features cost

A fresh gateway per row, the same closed loop: consumer authentication by API key with
per-consumer requests- and tokens-per-minute limits (set high enough never to refuse), shared state
in memory or in a local Redis (\`redis-server\`, started by the benchmark), and the response cache.

| configuration | req/s | share of all-off | p50 / p99 (ms) | failed |
| --- | --- | --- | --- | --- |
${featureRows.join("\n")}

### Config reload under load

The manifests rewritten every 500 ms (an alias added and removed) during ${r.durations.closedS * 2} s of closed-loop
load: ${r.reload.reloads} rewrites, about ${r.reload.requests.toLocaleString("en")} requests answered, **${r.reload.failed} failed**.

The 1-minute load average was ${r.loadAverage.toFixed(2)} when this run started; the whole run took ${Math.round(r.wallS)} s.
All processes share the machine's 2 cores with the load generator and with whatever else runs, so
absolute numbers move between runs: compare contenders within this run.

- Command: \`${command}\` (\`-- peers --full\` for ${"10"} s runs and 1,000 streams)
- Machine: ${machine}
- Date: ${new Date().toISOString().slice(0, 10)}
`;
}
