import Fastify, { type FastifyInstance } from "fastify";
import type { ConfigStore } from "../config/config-store.js";
import type { Router } from "../routing/router.js";
import type { GatewayMetrics } from "../metrics.js";

export interface AdminDeps {
  store: ConfigStore;
  router: Router;
  metrics: GatewayMetrics;
}

/**
 * The admin listener, kept off the public port because what it shows names every route,
 * consumer, model and cost figure: `GET /admin/state` reports per provider model health, circuit,
 * latency and counters with the config version in force (GatewayState), which the operator merges
 * into LLMProvider/LLMRoute status; `GET /metrics` is what Prometheus scrapes. Nothing here takes
 * input or returns secrets.
 */
export function createAdminServer(deps: AdminDeps): FastifyInstance {
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.get("/admin/state", async (_request, reply) =>
    reply.send(deps.router.gatewayState(deps.store.current)),
  );
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
