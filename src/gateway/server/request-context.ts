import { randomBytes } from "node:crypto";
import type { GatewayRuntime } from "../config/gateway-runtime.js";
import type { ConfigStore } from "../config/config-store.js";
import type { CompiledRoute } from "../../shared/schemas/gateway-config.js";
import { GatewayError } from "../../shared/errors.js";
import type { GatewayMetrics } from "../metrics.js";
import type { Logger } from "../../shared/logging.js";

export interface GatewayDeps {
  store: ConfigStore;
  metrics: GatewayMetrics;
  logger: Logger;
}

export function newRequestId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString("hex")}`;
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
