import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Gateway metrics, named after the OpenTelemetry GenAI semantic conventions where they apply. */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: "switchboard_requests_total",
    help: "Client requests by route, provider, model and outcome (ok or the error class).",
    labelNames: ["api", "route", "provider", "model", "outcome"] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: "gen_ai_server_request_duration",
    help: "Time from request received to response finished, in seconds.",
    labelNames: ["gen_ai_operation_name", "gen_ai_request_model", "gen_ai_provider_name", "outcome"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly timeToFirstToken = new Histogram({
    name: "gen_ai_server_time_to_first_token",
    help: "Time to the first streamed token, in seconds.",
    labelNames: ["gen_ai_request_model", "gen_ai_provider_name"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly tokenUsage = new Histogram({
    name: "gen_ai_client_token_usage",
    help: "Tokens per request by type (input or output); estimated counts carry estimated=true.",
    labelNames: ["gen_ai_token_type", "gen_ai_request_model", "gen_ai_provider_name", "estimated"] as const,
    buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576],
    registers: [this.registry],
  });

  readonly upstreamAttempts = new Counter({
    name: "switchboard_upstream_attempts_total",
    help: "Upstream attempts by provider, model and outcome.",
    labelNames: ["provider", "model", "outcome"] as const,
    registers: [this.registry],
  });

  readonly fallbacks = new Counter({
    name: "switchboard_fallbacks_total",
    help: "Requests served by a target other than the first one tried.",
    labelNames: ["route"] as const,
    registers: [this.registry],
  });

  readonly configReloads = new Counter({
    name: "switchboard_config_reloads_total",
    help: "Config snapshots applied or refused.",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
