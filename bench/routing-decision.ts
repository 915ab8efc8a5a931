import type { ChatRequest } from "../src/gateway/canonical/chat.js";
import { buildRuntime, type GatewayRuntime } from "../src/gateway/config/gateway-runtime.js";
import { chatNeeds } from "../src/gateway/routing/request-needs.js";
import { Router } from "../src/gateway/routing/router.js";
import { resolveRoute } from "../src/gateway/server/request-context.js";
import { ROUTE_STRATEGIES } from "../src/shared/schemas/llm-route.js";
import type { CompiledProvider, CompiledRoute, GatewayConfig } from "../src/shared/schemas/gateway-config.js";
import { percentile } from "./percentile.js";

/**
 * One routing decision as a request meets it: resolve the route by model name, estimate what the
 * request needs, filter by data-residency policy and capability, order by the route's strategy,
 * and take the first admitted target's circuit permit. 100 providers, 500 routes.
 */

export const PROVIDERS = 100;
export const ROUTES = 500;
const MODELS_PER_PROVIDER = 3;
const WARMUP = 50_000;
const SAMPLES = 200_000;
export const TARGET_P99_US = 20;

/** Deterministic PRNG (mulberry32), so every run routes the same synthetic fleet. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BOUNDARIES = ["provider-cloud", "customer-cloud", "on-premises"] as const;
const REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1"];

function fleet(random: () => number): GatewayConfig {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const providers: CompiledProvider[] = [];
  for (let p = 0; p < PROVIDERS; p++) {
    providers.push({
      id: `bench/p${p}`,
      name: `p${p}`,
      namespace: "bench",
      type: "openai-compatible",
      endpoint: `http://p${p}.invalid/v1`,
      credentials: { mode: "none" },
      models: Array.from({ length: MODELS_PER_PROVIDER }, (_, m) => ({
        name: `m${m}`,
        upstreamModel: `model-${m}`,
        kind: "chat" as const,
        contextWindow: pick([8192, 32_768, 128_000, 200_000]),
        maxOutputTokens: pick([4096, 8192, 16_384]),
        supportsTools: random() > 0.2,
        pricing: {
          inputPer1M: Math.round(random() * 1500) / 100,
          outputPer1M: Math.round(random() * 6000) / 100,
        },
      })),
      dataResidency: { boundary: pick(BOUNDARIES), region: pick(REGIONS) },
      limits: {},
      timeouts: { connectMs: 10_000, firstTokenMs: 60_000, idleMs: 60_000, totalMs: 600_000 },
      connectionPool: { maxConnections: 1024, maxQueued: 256, queueTimeoutMs: 5000 },
      healthCheck: { intervalMs: 30_000, timeoutMs: 5000, probe: "none" },
      circuitBreaker: { failureThreshold: 5, windowSeconds: 60, openSeconds: 30, halfOpenRequests: 1 },
    });
  }
  const routes: CompiledRoute[] = [];
  for (let r = 0; r < ROUTES; r++) {
    const count = 2 + Math.floor(random() * 4);
    const targets = Array.from({ length: count }, (_, i) => ({
      providerId: pick(providers).id,
      model: `m${Math.floor(random() * MODELS_PER_PROVIDER)}`,
      weight: 1 + Math.floor(random() * 5),
      priority: i,
    }));
    // A policy admitting the first target's facts, so every route has somewhere to go.
    const first = providers.find((p) => p.id === targets[0]!.providerId)!.dataResidency!;
    const kind = r % 3;
    const dataResidency =
      kind === 0
        ? undefined
        : kind === 1
          ? { allowedBoundaries: [first.boundary] }
          : { allowedRegions: [first.region!, pick(REGIONS)] };
    routes.push({
      id: `bench/r${r}`,
      name: `r${r}`,
      namespace: "bench",
      model: `route-${r}`,
      aliases: [`alias-${r}`],
      kind: "chat",
      strategy: ROUTE_STRATEGIES[r % ROUTE_STRATEGIES.length]!,
      targets,
      fallback: { on: ["rate_limit", "upstream_unavailable", "timeout"], maxAttempts: count },
      retries: { attempts: 1, backoffMs: 200, maxBackoffMs: 5000, respectRetryAfter: true },
      policy: { dataResidency },
      consumers: [],
    });
  }
  return { version: "bench", providers, routes };
}

function requests(random: () => number): Array<Omit<ChatRequest, "model"> & { model: string }> {
  const out: Array<Omit<ChatRequest, "model"> & { model: string }> = [];
  for (let i = 0; i < 1024; i++) {
    const route = Math.floor(random() * ROUTES);
    out.push({
      model: random() < 0.8 ? `route-${route}` : `alias-${route}`,
      messages: [
        { role: "system", content: "You are a helpful assistant." },
        {
          role: "user",
          content: [
            { type: "text", text: "Summarise this paragraph. ".repeat(1 + Math.floor(random() * 40)) },
          ],
        },
      ],
      maxTokens: random() < 0.5 ? 256 + Math.floor(random() * 2048) : undefined,
    });
  }
  return out;
}

export interface RoutingBenchResult {
  samples: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  meanUs: number;
  failures: number;
}

export function runRoutingDecisionBench(): RoutingBenchResult {
  const random = prng(20_260_101);
  const runtime: GatewayRuntime = buildRuntime(fleet(random));
  const router = new Router({ random });
  router.applySnapshot(runtime);
  // Latency history for half of the targets, as least-latency would see it in production.
  for (const provider of runtime.config.providers) {
    for (const model of provider.models) {
      if (random() < 0.5) continue;
      const state = router.states.get(provider, model);
      const admission = state.breaker.tryAcquire(Date.now());
      if (admission.admitted) router.states.recordSuccess(state, admission.permit, 50 + random() * 2000);
    }
  }
  const workload = requests(random);
  let failures = 0;

  const decide = (request: (typeof workload)[number]): void => {
    const route = resolveRoute(runtime, request.model, "chat");
    const candidates = router.planner.plan(runtime, route, chatNeeds(request));
    const now = Date.now();
    for (const candidate of candidates) {
      const state = router.states.get(candidate.provider, candidate.model);
      const admission = state.breaker.tryAcquire(now);
      if (admission.admitted) {
        state.breaker.release(admission.permit, now);
        return;
      }
    }
  };
  const safely = (request: (typeof workload)[number]): void => {
    try {
      decide(request);
    } catch {
      failures++; // a request no target can serve (e.g. tools on a route without tool support)
    }
  };

  for (let i = 0; i < WARMUP; i++) safely(workload[i & 1023]!);
  failures = 0;
  const timings = new Float64Array(SAMPLES);
  let total = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const request = workload[i & 1023]!;
    const started = process.hrtime.bigint();
    safely(request);
    const us = Number(process.hrtime.bigint() - started) / 1000;
    timings[i] = us;
    total += us;
  }
  router.close();
  timings.sort();
  return {
    samples: SAMPLES,
    p50Us: percentile(timings, 50),
    p90Us: percentile(timings, 90),
    p99Us: percentile(timings, 99),
    p999Us: percentile(timings, 99.9),
    maxUs: timings[SAMPLES - 1]!,
    meanUs: total / SAMPLES,
    failures,
  };
}
