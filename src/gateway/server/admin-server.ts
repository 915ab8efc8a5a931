import Fastify, { type FastifyInstance } from "fastify";
import type { ConfigStore } from "../config/config-store.js";
import type { Router } from "../routing/router.js";
import type { GatewayMetrics } from "../metrics.js";
import type { CompiledRoute } from "../../shared/schemas/gateway-config.js";
import type { ConsumerUsage } from "../../shared/schemas/gateway-state.js";

export interface AdminDeps {
  store: ConfigStore;
  router: Router;
  metrics: GatewayMetrics;
  stateBackend: "memory" | "redis";
  /** Each route consumer's use in its current budget period. */
  consumerUsage: (routes: readonly CompiledRoute[]) => Promise<ConsumerUsage[]>;
}

/**
 * The admin listener, kept off the public port because what it shows names every route,
 * consumer, model and cost figure: `GET /admin/state` reports per provider model health, circuit,
 * latency and counters, and each route consumer's requests, tokens and spend in its budget period,
 * with the config version in force (GatewayState), which the operator merges into
 * LLMProvider/LLMRoute status; `GET /metrics` is what Prometheus scrapes. Nothing here takes
 * input or returns secrets.
 */
export function createAdminServer(deps: AdminDeps): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.get("/admin/state", async (_request, reply) => {
    const runtime = deps.store.current;
    const consumers = await deps.consumerUsage(runtime?.config.routes ?? []);
    return reply.send({ ...deps.router.gatewayState(runtime), stateBackend: deps.stateBackend, consumers });
  });
  app.get("/metrics", async (_request, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        message: `${request.method} ${request.url.split("?")[0]} is not an admin endpoint; use GET /admin/state or GET /metrics`,
        code: "not_found",
      },
    }),
  );
  return app;
}
