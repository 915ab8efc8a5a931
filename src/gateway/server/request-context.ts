import { randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { GatewayRuntime } from "../config/gateway-runtime.js";
import type { ConfigStore } from "../config/config-store.js";
import type { CompiledConsumer, CompiledModel, CompiledRoute } from "../../shared/schemas/gateway-config.js";
import { GatewayError } from "../../shared/errors.js";
import type { GatewayMetrics } from "../metrics.js";
import type { Logger } from "../../shared/logging.js";
import type { ConsumerAuthenticator } from "../auth/consumer-auth.js";
import { presentedCredential } from "../auth/client-credential.js";
import type { ConsumerLimiter } from "../limits/consumer-limiter.js";
import type { ProviderLimiter } from "../limits/provider-limiter.js";
import type { ResponseCache } from "../cache/response-cache.js";
import type { Router } from "../routing/router.js";

/** Who may call what, how much, and what was already answered: consumers, limits, cache. */
export interface TrafficControls {
  auth: ConsumerAuthenticator;
  consumerLimits: ConsumerLimiter;
  providerLimits: ProviderLimiter;
  cache: ResponseCache;
}

export interface GatewayDeps {
  store: ConfigStore;
  metrics: GatewayMetrics;
  logger: Logger;
  traffic: TrafficControls;
  /** Routing and resilience: plans, dispatches and keeps circuit/health state. */
  router: Router;
}

/** The route's consumer making this request (undefined on an open route); throws 401/403. */
export async function admitCaller(
  deps: GatewayDeps,
  runtime: GatewayRuntime,
  route: CompiledRoute,
  model: string,
  headers: IncomingHttpHeaders,
  acceptXApiKey: boolean,
): Promise<CompiledConsumer | undefined> {
  if (route.consumers.length === 0) return undefined;
  const identity = await deps.traffic.auth.identify(
    runtime.config,
    presentedCredential(headers, acceptXApiKey),
  );
  return deps.traffic.auth.admit(route, identity, model);
}

/** Random per process, so ids stay unique across replicas and workers; a counter within it. */
const ID_PREFIX = randomBytes(6).toString("hex");
let idCounter = 0;

/**
 * A unique response id (`chatcmpl-` and 24 hex digits, as before): a random draw per request cost
 * 2.5% of the gateway's CPU under load, and ids need only be unique, not unpredictable.
 */
export function newRequestId(prefix: string): string {
  idCounter = (idCounter + 1) % 2 ** 48;
  return `${prefix}-${ID_PREFIX}${idCounter.toString(16).padStart(12, "0")}`;
}

export function currentRuntime(store: ConfigStore): GatewayRuntime {
  const runtime = store.current;
  if (!runtime)
    throw new GatewayError("upstream_unavailable", "the gateway has no valid configuration loaded yet");
  return runtime;
}

export function resolveRoute(
  runtime: GatewayRuntime,
  model: string,
  kind: "chat" | "embedding",
): CompiledRoute {
  const route = runtime.routesByModel.get(model);
  if (!route) {
    throw new GatewayError(
      "model_not_found",
      `model "${model}" is not served by this gateway; GET /v1/models lists the models you can use`,
      { param: "model" },
    );
  }
  // The operator leaves out targets whose LLMProvider or model was deleted; with none left, the
  // route's kind is unknown, so this is said before the endpoint is checked.
  if (route.targets.length === 0) {
    throw new GatewayError(
      "upstream_unavailable",
      `model "${model}" has no target: every LLMProvider model its route ${route.id} names is missing; the request was not sent anywhere`,
    );
  }
  if (route.kind !== kind) {
    throw new GatewayError(
      "invalid_request",
      kind === "chat"
        ? `model "${model}" is an embedding model; call POST /v1/embeddings instead`
        : `model "${model}" is a chat model; call POST /v1/chat/completions instead`,
      { param: "model" },
    );
  }
  return route;
}

/** The models a route's requests may reach, fallbacks included: what a reservation must cover. */
export function routeModels(runtime: GatewayRuntime, route: CompiledRoute): CompiledModel[] {
  return route.targets.flatMap((t) => runtime.models.get(`${t.providerId}/${t.model}`) ?? []);
}
