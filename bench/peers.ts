import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { Pool } from "undici";
import { load, type LoadResult } from "./autocannon-load.js";
import { cpuSeconds, startGateway, startScript, statusMiB, stop, type Peer } from "./bench-processes.js";
import { percentile } from "./percentile.js";
import {
  installLitellm,
  installPortkey,
  LITELLM_MASTER_KEY,
  LITELLM_VERSION,
  PORTKEY_VERSION,
  startLitellm,
  startPortkey,
} from "./peer-processes.js";

/**
 * Switchboard beside its peers in one run: the same instant upstream behind a direct call, the
 * bare Node proxy, `switchboard gateway` (built), Portkey's gateway and the LiteLLM proxy, all
 * started here, loaded in turn by autocannon. Absolute numbers move with the machine's load, so
 * each contender is reported as a share of the bare proxy's throughput and as latency added over
 * the direct call in the same run.
 */

export const RATES = [100, 500, 1000, 2000] as const;
export const CONNECTIONS = 50;
export const STREAMS = { quick: 200, full: 1000 } as const;

export interface Durations {
  closedS: number;
  rateS: number;
  warmS: number;
}
export const QUICK: Durations = { closedS: 5, rateS: 4, warmS: 2 };
export const FULL: Durations = { closedS: 10, rateS: 10, warmS: 3 };

/** How a contender is called for one kind of request; undefined when it cannot be. */
interface Call {
  path: string;
  headers?: Record<string, string>;
  model: string;
}

interface Contender {
  name: string;
  peer: Peer;
  chat?: Call;
  /** An OpenAI-format client in front of an Anthropic-format upstream. */
  cross?: Call;
  embed?: Call;
}

export interface ContenderResult {
  name: string;
  closed?: LoadResult & { cpuMsPerRequest: number };
  rates: (LoadResult & { rate: number })[];
  stream?: LoadResult;
  slowStreams?: { ttftP50Ms: number; ttftP99Ms: number; failed: number; rssMiB: number };
  cross?: LoadResult;
  embed?: LoadResult;
  idleRssMiB: number;
  rssMiB: number;
}

export interface FeatureResult {
  name: string;
  closed: LoadResult;
}

export interface PeersResult {
  contenders: ContenderResult[];
  features: FeatureResult[];
  reload: { reloads: number; requests: number; failed: number };
  notInstalled: string[];
  streams: number;
  durations: Durations;
  loadAverage: number;
  wallS: number;
}

const chatBody = (model: string, stream: boolean) =>
  JSON.stringify({
    model,
    messages: [
      { role: "system", content: "You are a helpful assistant." },
      { role: "user", content: "Say something short about benchmarks." },
    ],
    max_tokens: 64,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });

const anthropicBody = (model: string) =>
  JSON.stringify({
    model,
    max_tokens: 64,
    system: "You are a helpful assistant.",
    messages: [{ role: "user", content: "Say something short about benchmarks." }],
  });

const embedBody = (model: string) =>
  JSON.stringify({ model, input: "Say something short about benchmarks." });

const CONSUMER_KEY = "sk-consumer-bench-7Qz4Xw9Lm2";

/** One OpenAI-compatible and one Anthropic provider on the instant upstream; `features` adds a consumer, limits and cache. */
function manifests(upstream: string, features: { auth: boolean; cache: boolean; alias?: string }): string {
  const consumers = features.auth
    ? `  consumers:
    - name: bench-team
      apiKeySecretRef: { name: bench-keys, key: team }
      limits: { requestsPerMinute: 100000000, tokensPerMinute: 100000000000 }
`
    : "";
  const cache = features.cache ? "  cache: { ttl: 10m }\n" : "";
  const route = (name: string, model: string, provider: string) => `---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMRoute
metadata: { name: ${name}, namespace: bench }
spec:
  model: ${model}
${features.alias && name === "chat" ? `  aliases: [${features.alias}]\n` : ""}  targets:
    - { provider: ${provider}, model: ${model} }
${name === "chat" ? consumers + cache : ""}`;
  return `apiVersion: v1
kind: Secret
metadata: { name: bench-keys, namespace: bench }
stringData: { team: ${CONSUMER_KEY}, anthropic: sk-ant-bench-unused-9Rt }
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMProvider
metadata: { name: instant, namespace: bench }
spec:
  type: openai-compatible
  endpoint: ${upstream}/v1
  credentials: { none: {} }
  models:
    - { name: bench-chat, contextWindow: 8192, maxOutputTokens: 1024 }
    - { name: bench-slow, contextWindow: 8192, maxOutputTokens: 1024 }
    - { name: bench-embed, kind: embedding, dimensions: 768 }
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMProvider
metadata: { name: instant-anthropic, namespace: bench }
spec:
  type: anthropic
  endpoint: ${upstream}
  credentials: { secretRef: { name: bench-keys, key: anthropic } }
  models:
    - { name: bench-claude, contextWindow: 200000, maxOutputTokens: 8192 }
${route("chat", "bench-chat", "instant")}${route("slow", "bench-slow", "instant")}${route("embed", "bench-embed", "instant")}${route("claude", "bench-claude", "instant-anthropic")}`;
}

const LITELLM_CONFIG = (upstream: string) => `model_list:
  - model_name: bench-chat
    litellm_params: { model: openai/bench-chat, api_base: "${upstream}/v1", api_key: none }
  - model_name: bench-slow
    litellm_params: { model: openai/bench-slow, api_base: "${upstream}/v1", api_key: none }
  - model_name: bench-embed
    litellm_params: { model: openai/bench-embed, api_base: "${upstream}/v1", api_key: none }
  - model_name: bench-claude
    litellm_params: { model: anthropic/bench-claude, api_base: "${upstream}", api_key: sk-ant-bench-unused }
`;

function contenders(
  upstream: Peer,
  bare: Peer,
  switchboard: Peer,
  portkey: Peer | undefined,
  litellm: Peer | undefined,
): Contender[] {
  const openAi = (model: string): Call => ({ path: "/v1/chat/completions", model });
  const portkeyHeaders = (provider: string) => ({
    "x-portkey-provider": provider,
    "x-portkey-custom-host": `${upstream.origin}/v1`,
    authorization: "Bearer sk-upstream-unused",
  });
  const litellmHeaders = { authorization: `Bearer ${LITELLM_MASTER_KEY}` };
  const list: Contender[] = [
    {
      name: "direct",
      peer: upstream,
      chat: openAi("bench-chat"),
      cross: { path: "/v1/messages", model: "bench-claude" },
      embed: { path: "/v1/embeddings", model: "bench-embed" },
    },
    {
      name: "bare Node proxy",
      peer: bare,
      chat: openAi("bench-chat"),
      embed: { path: "/v1/embeddings", model: "bench-embed" },
    },
    {
      name: "Switchboard",
      peer: switchboard,
      chat: openAi("bench-chat"),
      cross: openAi("bench-claude"),
      embed: { path: "/v1/embeddings", model: "bench-embed" },
    },
  ];
  if (portkey) {
    list.push({
      name: `Portkey ${PORTKEY_VERSION}`,
      peer: portkey,
      chat: { ...openAi("bench-chat"), headers: portkeyHeaders("openai") },
      cross: { ...openAi("bench-claude"), headers: portkeyHeaders("anthropic") },
      embed: { path: "/v1/embeddings", model: "bench-embed", headers: portkeyHeaders("openai") },
    });
  }
  if (litellm) {
    list.push({
      name: `LiteLLM ${LITELLM_VERSION}`,
      peer: litellm,
      chat: { ...openAi("bench-chat"), headers: litellmHeaders },
      cross: { ...openAi("bench-claude"), headers: litellmHeaders },
      embed: { path: "/v1/embeddings", model: "bench-embed", headers: litellmHeaders },
    });
  }
  return list;
}

/** The direct call to the Anthropic-format upstream is made in its own format. */
function bodyFor(contender: Contender, kind: "chat" | "stream" | "slow" | "cross" | "embed"): string {
  const call = kind === "cross" ? contender.cross! : kind === "embed" ? contender.embed! : contender.chat!;
  if (kind === "cross")
    return call.path === "/v1/messages" ? anthropicBody(call.model) : chatBody(call.model, false);
  if (kind === "embed") return embedBody(call.model);
  return chatBody(kind === "slow" ? "bench-slow" : call.model, kind !== "chat");
}

async function measure(
  contender: Contender,
  kind: "chat" | "stream" | "cross" | "embed",
  durationS: number,
  rate?: number,
): Promise<LoadResult> {
  process.stderr.write(
    `peers: ${contender.name}, ${kind}${rate ? ` at ${rate} req/s` : ""}, ${durationS} s\n`,
  );
  const call = kind === "cross" ? contender.cross! : kind === "embed" ? contender.embed! : contender.chat!;
  return load({
    origin: contender.peer.origin,
    path: call.path,
    headers: call.headers,
    body: bodyFor(contender, kind),
    connections: CONNECTIONS,
    durationS,
    rate,
  });
}

/**
 * `count` slow streams at once (events 50 ms apart): time to the first byte of the body, and the
 * contender's RSS while all are open.
 */
async function slowStreams(
  contender: Contender,
  count: number,
): Promise<{ ttftP50Ms: number; ttftP99Ms: number; failed: number; rssMiB: number }> {
  const pool = new Pool(contender.peer.origin, { connections: count });
  const ttft: number[] = [];
  let failed = 0;
  let rssMiB = 0;
  const one = async () => {
    const started = performance.now();
    try {
      const res = await pool.request({
        method: "POST",
        path: contender.chat!.path,
        headers: { "content-type": "application/json", ...contender.chat!.headers },
        body: bodyFor(contender, "slow"),
      });
      let first = true;
      let text = "";
      for await (const chunk of res.body) {
        if (first) ttft.push(performance.now() - started);
        first = false;
        text += String(chunk);
      }
      if (res.statusCode !== 200 || !text.includes("[DONE]")) failed++;
    } catch {
      failed++;
    }
  };
  const sampler = setInterval(() => {
    rssMiB = Math.max(rssMiB, statusMiB(contender.peer.child.pid!, "VmRSS"));
  }, 100);
  try {
    await Promise.all(Array.from({ length: count }, one));
  } finally {
    clearInterval(sampler);
    await pool.close();
  }
  const sorted = Float64Array.from(ttft).sort();
  return { ttftP50Ms: percentile(sorted, 50), ttftP99Ms: percentile(sorted, 99), failed, rssMiB };
}

async function startRedis(): Promise<{ child: ChildProcess; url: string } | undefined> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  const failed = await new Promise<boolean>((resolve) => {
    child.once("error", () => resolve(true));
    setTimeout(() => resolve(child.exitCode !== null), 500);
  });
  return failed ? undefined : { child, url: `redis://127.0.0.1:${port}` };
}

/** Switchboard from manifests written to `dir`, with extra CLI arguments. */
async function switchboardWith(
  dir: string,
  text: string,
  args: string[] = [],
  cliJs?: string,
): Promise<Peer> {
  await writeFile(path.join(dir, "manifests.yaml"), text);
  return startGateway(dir, args, cliJs);
}

/**
 * SWITCHBOARD_BENCH_BASELINE=<path of another build's dist/cli.js>[=<label>] adds that build as a
 * contender, so a change is measured against what it replaces in the same run.
 */
function baselineBuild(): { cliJs: string; label: string } | undefined {
  const value = process.env.SWITCHBOARD_BENCH_BASELINE;
  if (!value) return undefined;
  const [cliJs, label] = value.split("=");
  return { cliJs: cliJs!, label: `Switchboard ${label ?? "baseline"}` };
}

async function features(
  dir: string,
  upstream: Peer,
  durations: Durations,
  notes: string[],
): Promise<FeatureResult[]> {
  const redis = await startRedis();
  if (!redis) notes.push("Redis (redis-server was not found: the Redis rows are missing)");
  const configs: { name: string; auth: boolean; cache: boolean; redis: boolean }[] = [
    { name: "all off (open route, memory state)", auth: false, cache: false, redis: false },
    { name: "consumer key + rpm/tpm limits, memory state", auth: true, cache: false, redis: false },
    ...(redis
      ? [
          { name: "consumer key + rpm/tpm limits, Redis", auth: true, cache: false, redis: true },
          {
            name: "consumer key + limits + response cache (every request a hit), Redis",
            auth: true,
            cache: true,
            redis: true,
          },
        ]
      : []),
  ];
  const results: FeatureResult[] = [];
  try {
    for (const config of configs) {
      const sub = path.join(dir, `features-${results.length}`);
      await mkdir(sub);
      const gateway = await switchboardWith(
        sub,
        manifests(upstream.origin, config),
        config.redis ? ["--redis-url", redis!.url] : [],
      );
      try {
        const contender: Contender = {
          name: config.name,
          peer: gateway,
          chat: {
            path: "/v1/chat/completions",
            model: "bench-chat",
            headers: config.auth ? { authorization: `Bearer ${CONSUMER_KEY}` } : undefined,
          },
        };
        await measure(contender, "chat", durations.warmS);
        results.push({ name: config.name, closed: await measure(contender, "chat", durations.closedS) });
      } finally {
        await stop(gateway.child);
      }
    }
  } finally {
    if (redis) await stop(redis.child);
  }
  return results;
}

/** Closed-loop load while the manifests are rewritten (an alias toggled) every 500 ms. */
async function reloadUnderLoad(
  dir: string,
  upstream: Peer,
  durations: Durations,
): Promise<{ reloads: number; requests: number; failed: number }> {
  const sub = path.join(dir, "reload");
  await mkdir(sub);
  const gateway = await switchboardWith(sub, manifests(upstream.origin, { auth: false, cache: false }));
  let reloads = 0;
  const toggler = setInterval(() => {
    reloads++;
    void writeFile(
      path.join(sub, "manifests.yaml"),
      manifests(upstream.origin, {
        auth: false,
        cache: false,
        alias: reloads % 2 ? "bench-alias" : undefined,
      }),
    );
  }, 500);
  try {
    const contender: Contender = {
      name: "reload",
      peer: gateway,
      chat: { path: "/v1/chat/completions", model: "bench-chat" },
    };
    const r = await measure(contender, "chat", durations.closedS * 2);
    return { reloads, requests: Math.round(r.requestsPerS * durations.closedS * 2), failed: r.failed };
  } finally {
    clearInterval(toggler);
    await stop(gateway.child);
  }
}

export async function runPeersBench(full: boolean): Promise<PeersResult> {
  const started = performance.now();
  const durations = full ? FULL : QUICK;
  const streams = full ? STREAMS.full : STREAMS.quick;
  const loadAverage = loadavg()[0]!;
  const dir = await mkdtemp(path.join(tmpdir(), "switchboard-peers-"));
  const notInstalled: string[] = [];
  const started_: Peer[] = [];
  try {
    const upstream = await startScript("instant-upstream.ts");
    started_.push(upstream);
    const bare = await startScript("bare-proxy.ts", { BENCH_UPSTREAM: upstream.origin });
    started_.push(bare);
    const switchboard = await switchboardWith(dir, manifests(upstream.origin, { auth: false, cache: false }));
    started_.push(switchboard);
    const baseline = baselineBuild();
    let before: Peer | undefined;
    if (baseline) {
      const sub = path.join(dir, "baseline");
      await mkdir(sub);
      before = await switchboardWith(
        sub,
        manifests(upstream.origin, { auth: false, cache: false }),
        [],
        baseline.cliJs,
      );
      started_.push(before);
    }
    const portkeyInstall = await installPortkey();
    let portkey: Peer | undefined;
    if (portkeyInstall.ok) started_.push((portkey = await startPortkey(portkeyInstall.dir)));
    else notInstalled.push(portkeyInstall.reason);
    const litellmInstall = await installLitellm();
    let litellm: Peer | undefined;
    if (litellmInstall.ok) {
      await writeFile(path.join(dir, "litellm.yaml"), LITELLM_CONFIG(upstream.origin));
      try {
        started_.push((litellm = await startLitellm(litellmInstall.dir, path.join(dir, "litellm.yaml"))));
      } catch {
        notInstalled.push(
          `LiteLLM ${LITELLM_VERSION} (installed, but did not answer within 240 s of starting)`,
        );
      }
    } else notInstalled.push(litellmInstall.reason);

    const list = contenders(upstream, bare, switchboard, portkey, litellm);
    if (baseline && before) {
      const current = list.find((c) => c.name === "Switchboard")!;
      list.splice(list.indexOf(current), 0, { ...current, name: baseline.label, peer: before });
    }
    const results: ContenderResult[] = list.map((c) => ({
      name: c.name,
      rates: [],
      idleRssMiB: statusMiB(c.peer.child.pid!, "VmRSS"),
      rssMiB: 0,
    }));
    // Scenario by scenario, every contender in turn, so a change in the machine's load hits all alike.
    for (const [i, c] of list.entries()) {
      await measure(c, "chat", durations.warmS);
      const cpuBefore = cpuSeconds(c.peer.child.pid!);
      const closed = await measure(c, "chat", durations.closedS);
      const cpuMs = (cpuSeconds(c.peer.child.pid!) - cpuBefore) * 1000;
      results[i]!.closed = { ...closed, cpuMsPerRequest: cpuMs / (closed.requestsPerS * durations.closedS) };
    }
    for (const rate of RATES) {
      for (const [i, c] of list.entries()) {
        results[i]!.rates.push({ ...(await measure(c, "chat", durations.rateS, rate)), rate });
      }
    }
    for (const [i, c] of list.entries()) results[i]!.stream = await measure(c, "stream", durations.closedS);
    for (const [i, c] of list.entries()) results[i]!.slowStreams = await slowStreams(c, streams);
    for (const [i, c] of list.entries()) {
      if (c.cross) results[i]!.cross = await measure(c, "cross", durations.closedS);
    }
    for (const [i, c] of list.entries()) {
      if (c.embed) results[i]!.embed = await measure(c, "embed", durations.closedS);
    }
    for (const [i, c] of list.entries()) results[i]!.rssMiB = statusMiB(c.peer.child.pid!, "VmRSS");
    const featureResults = await features(dir, upstream, durations, notInstalled);
    const reload = await reloadUnderLoad(dir, upstream, durations);
    return {
      contenders: results,
      features: featureResults,
      reload,
      notInstalled,
      streams,
      durations,
      loadAverage,
      wallS: (performance.now() - started) / 1000,
    };
  } finally {
    for (const peer of started_.reverse()) await stop(peer.child);
    await rm(dir, { recursive: true, force: true });
  }
}
