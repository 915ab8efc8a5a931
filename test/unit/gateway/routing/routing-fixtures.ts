import type { ChatResponse } from "../../../../src/gateway/canonical/chat.js";
import type { GatewayRuntime } from "../../../../src/gateway/config/gateway-runtime.js";
import type { CallContext, ProviderAdapter } from "../../../../src/gateway/providers/provider-adapter.js";
import type { Candidate } from "../../../../src/gateway/routing/candidate.js";
import type { RequestNeeds } from "../../../../src/gateway/routing/request-needs.js";
import type { StrategyContext } from "../../../../src/gateway/routing/strategies/strategy.js";
import type {
  CompiledModel,
  CompiledProvider,
  CompiledRoute,
  GatewayConfig,
} from "../../../../src/shared/schemas/gateway-config.js";

/** Small builders for compiled config, so routing tests state only what matters to them. */

export function model(overrides: Partial<CompiledModel> = {}): CompiledModel {
  return { name: "m", upstreamModel: "m-upstream", kind: "chat", supportsTools: true, ...overrides };
}

export function provider(name: string, overrides: Partial<CompiledProvider> = {}): CompiledProvider {
  return {
    id: `default/${name}`,
    name,
    namespace: "default",
    type: "openai-compatible",
    endpoint: `http://${name}.invalid`,
    credentials: { mode: "none" },
    models: [model()],
    limits: {},
    timeouts: { connectMs: 1000, firstTokenMs: 1000, idleMs: 1000, totalMs: 5000 },
    connectionPool: { maxConnections: 1024, maxQueued: 256, queueTimeoutMs: 5000 },
    healthCheck: { intervalMs: 30_000, timeoutMs: 1000, probe: "none" },
    circuitBreaker: { failureThreshold: 3, windowSeconds: 60, openSeconds: 30, halfOpenRequests: 1 },
    ...overrides,
  };
}

export function route(
  targets: Array<{ provider: string; model?: string; weight?: number; priority?: number }>,
  overrides: Partial<CompiledRoute> = {},
): CompiledRoute {
  return {
    id: "default/r",
    name: "r",
    namespace: "default",
    model: "r",
    aliases: [],
    kind: "chat",
    strategy: "priority",
    targets: targets.map((t, index) => ({
      providerId: `default/${t.provider}`,
      model: t.model ?? "m",
      weight: t.weight ?? 1,
      priority: t.priority ?? index,
    })),
    fallback: { on: ["rate_limit", "upstream_unavailable", "timeout"], maxAttempts: targets.length },
    retries: { attempts: 0, backoffMs: 1, maxBackoffMs: 10, respectRetryAfter: true },
    policy: {},
    consumers: [],
    ...overrides,
  };
}

export type ChatBehaviour = (request: { model: string }, ctx: CallContext) => Promise<ChatResponse>;

export function answer(text: string, modelName = "m-upstream"): ChatResponse {
  return {
    id: "x",
    model: modelName,
    content: text,
    toolCalls: [],
    finishReason: "stop",
    rawFinishReason: "stop",
  };
}

/** An adapter whose chat calls run `behaviour`; every call is recorded by provider id. */
export function stubAdapter(p: CompiledProvider, behaviour: ChatBehaviour, calls: string[]): ProviderAdapter {
  return {
    provider: p,
    chat: (request, ctx) => {
      calls.push(p.id);
      return behaviour(request, ctx);
    },
    chatStream: () => Promise.reject(new Error("not used")),
    embed: () => Promise.reject(new Error("not used")),
    probe: () => Promise.resolve(),
  };
}

/** A GatewayRuntime built by hand, with stub adapters instead of real ones. */
export function runtime(
  providers: CompiledProvider[],
  routes: CompiledRoute[],
  adapters: Map<string, ProviderAdapter> = new Map(),
  version = "v1",
): GatewayRuntime {
  const config: GatewayConfig = { version, providers, routes };
  const routesByModel = new Map<string, CompiledRoute>();
  for (const r of routes) for (const name of [r.model, ...r.aliases]) routesByModel.set(name, r);
  const models = new Map<string, CompiledModel>();
  for (const p of providers) for (const m of p.models) models.set(`${p.id}/${m.name}`, m);
  const byId = new Map(providers.map((p) => [p.id, p]));
  for (const p of providers)
    if (!adapters.has(p.id))
      adapters.set(
        p.id,
        stubAdapter(p, async () => answer("ok"), []),
      );
  return { config, routesByModel, providers: byId, adapters, models };
}

export const CHAT_NEEDS: RequestNeeds = { kind: "chat", contextTokens: 10, inputTokens: 10, tools: false };

/** Candidates for strategy tests: one per name, in the given (priority) order. */
export function candidates(
  specs: Array<{ name: string; weight?: number; model?: Partial<CompiledModel> }>,
): Candidate[] {
  return specs.map((spec, index) => {
    const p = provider(spec.name, { models: [model(spec.model)] });
    return {
      provider: p,
      model: p.models[0]!,
      adapter: stubAdapter(p, async () => answer("ok"), []),
      target: { providerId: p.id, model: "m", weight: spec.weight ?? 1, priority: index },
      key: `${p.id}/m`,
    };
  });
}

export function strategyContext(overrides: Partial<StrategyContext> = {}): StrategyContext {
  let turn = 0;
  return {
    route: route([]),
    needs: CHAT_NEEDS,
    latencyMs: () => undefined,
    random: () => 0.5,
    nextTurn: () => turn++,
    ...overrides,
  };
}

export const names = (list: readonly Candidate[]): string[] => list.map((c) => c.provider.name);
