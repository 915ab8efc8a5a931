import OpenAI from "openai";
import { VERSION } from "openai/version";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { readJson, sendUpstream } from "../src/gateway/providers/upstream-http.js";
import { compile } from "../src/shared/compile.js";
import { loadManifests } from "../src/shared/manifests.js";
import type { CompiledProvider } from "../src/shared/schemas/gateway-config.js";
import { startUpstream, stop } from "./bench-processes.js";

/**
 * The official `openai` SDK against the gateway's own undici transport (upstream-http.ts) for one
 * non-streaming chat call to the instant upstream, in this process: closed loop at CONCURRENCY,
 * the two clients in alternating rounds, CPU time of this process per request and requests/s.
 */

export const CONCURRENCY = 32;
export const REQUESTS = 3000;
export const ROUNDS = 3;

const BODY = {
  model: "bench-chat",
  messages: [
    { role: "system" as const, content: "You are a helpful assistant." },
    { role: "user" as const, content: "Say something short about benchmarks." },
  ],
  max_tokens: 64,
};

export interface ClientResult {
  name: string;
  requestsPerS: number;
  cpuUsPerRequest: number;
}

async function drive(
  call: () => Promise<unknown>,
): Promise<{ requestsPerS: number; cpuUsPerRequest: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < REQUESTS) await call();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { requestsPerS: REQUESTS / seconds, cpuUsPerRequest: (used.user + used.system) / REQUESTS };
}

/** The provider as the gateway compiles it: its connection pool settings are the transport's. */
async function compiledProvider(origin: string): Promise<CompiledProvider> {
  const dir = await mkdtemp(path.join(tmpdir(), "switchboard-sdk-bench-"));
  try {
    await writeFile(
      path.join(dir, "provider.yaml"),
      `apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMProvider
metadata: { name: instant, namespace: bench }
spec:
  type: openai-compatible
  endpoint: ${origin}/v1
  credentials: { none: {} }
  models:
    - { name: bench-chat, contextWindow: 8192, maxOutputTokens: 1024 }
`,
    );
    return compile(await loadManifests(dir)).config!.providers[0]!;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runSdkTransportBench(): Promise<ClientResult[]> {
  const upstream = await startUpstream();
  try {
    const provider = await compiledProvider(upstream.origin);
    const sdk = new OpenAI({ baseURL: `${upstream.origin}/v1`, apiKey: "sk-bench-unused", maxRetries: 0 });
    const clients: Record<string, () => Promise<unknown>> = {
      "undici transport (upstream-http.ts)": async () => {
        const signal = new AbortController().signal;
        const res = await sendUpstream(
          {
            url: `${upstream.origin}/v1/chat/completions`,
            headers: { "content-type": "application/json", authorization: "Bearer sk-bench-unused" },
            body: JSON.stringify(BODY),
            providerName: "bench",
            provider,
          },
          { signal, timeouts: provider.timeouts },
        );
        return readJson(res, "bench", signal);
      },
      [`openai SDK ${VERSION}`]: () =>
        sdk.chat.completions.create(BODY, { signal: new AbortController().signal }),
    };
    const totals = new Map<string, { rps: number; cpu: number }>();
    for (const call of Object.values(clients)) await drive(call);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, call] of Object.entries(clients)) {
        const r = await drive(call);
        const t = totals.get(name) ?? { rps: 0, cpu: 0 };
        totals.set(name, { rps: t.rps + r.requestsPerS / ROUNDS, cpu: t.cpu + r.cpuUsPerRequest / ROUNDS });
      }
    }
    return [...totals].map(([name, t]) => ({ name, requestsPerS: t.rps, cpuUsPerRequest: t.cpu }));
  } finally {
    await stop(upstream.child);
  }
}
