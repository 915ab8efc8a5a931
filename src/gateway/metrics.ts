import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { upstreamPoolStats, type PoolStats } from "./providers/upstream-pool.js";

/** A gauge per provider filled from the live connection pools at scrape time. */
function poolGauge(
  registry: Registry,
  name: string,
  help: string,
  value: (pool: PoolStats) => number,
): Gauge<"provider"> {
  const gauge: Gauge<"provider"> = new Gauge({
    name,
    help,
    labelNames: ["provider"] as const,
    registers: [registry],
    collect: () => {
      gauge.reset();
      for (const pool of upstreamPoolStats()) gauge.set({ provider: pool.providerId }, value(pool));
    },
  });
  return gauge;
}

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

  readonly timePerOutputToken = new Histogram({
    name: "gen_ai_server_time_per_output_token",
    help: "Time per output token after the first one in streamed responses, in seconds.",
    labelNames: ["gen_ai_request_model", "gen_ai_provider_name"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly costUsd = new Counter({
    name: "switchboard_cost_usd_total",
    help: "Spend at model list prices, in USD, by route, provider, model and consumer.",
    labelNames: ["route", "provider", "model", "consumer"] as const,
    registers: [this.registry],
  });

  readonly cacheRequests = new Counter({
    name: "switchboard_cache_requests_total",
    help: "Response-cache lookups on routes with spec.cache, by result (hit or miss).",
    labelNames: ["route", "result"] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: "switchboard_rate_limited_total",
    help: "Requests or attempts refused (or streams cut) by the gateway's own limits, by scope: provider, consumer or budget.",
    labelNames: ["scope", "route", "provider"] as const,
    registers: [this.registry],
  });

  readonly gatewayOverhead = new Histogram({
    name: "switchboard_gateway_overhead_seconds",
    help: "Time a successful request spent in the gateway, from its arrival to the last byte of the answer written, less the upstream calls, in seconds.",
    labelNames: ["api"] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [this.registry],
  });

  readonly sharedStateErrors = new Counter({
    name: "switchboard_shared_state_errors_total",
    help: "Redis operations that failed; limits were not enforced and the cache missed for them.",
    labelNames: ["operation"] as const,
    registers: [this.registry],
  });

  readonly configReloads = new Counter({
    name: "switchboard_config_reloads_total",
    help: "Config snapshots applied or refused.",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  /** Set by the consumer limiter: fills the budget gauges at scrape time. */
  refreshBudgetGauges: () => void = () => {};

  readonly budgetSpent = new Gauge({
    name: "switchboard_budget_spent_usd",
    help: "Spend counted against each consumer budget in its current period, in USD, as this replica last saw it (one count across replicas with Redis).",
    labelNames: ["route", "consumer", "period"] as const,
    registers: [this.registry],
    collect: () => this.refreshBudgetGauges(),
  });

  readonly budgetLimit = new Gauge({
    name: "switchboard_budget_limit_usd",
    help: "Each consumer budget that this replica has seen in use, in USD per period.",
    labelNames: ["route", "consumer", "period"] as const,
    registers: [this.registry],
    collect: () => this.refreshBudgetGauges(),
  });

  readonly teamBudgetSpent = new Gauge({
    name: "switchboard_team_budget_spent_usd",
    help: "Spend counted against each team budget (spec.consumers[].team) in its current period, in USD, across every route of the team, as this replica last saw it (one count across replicas with Redis).",
    labelNames: ["team", "period"] as const,
    registers: [this.registry],
    collect: () => this.refreshBudgetGauges(),
  });

  readonly teamBudgetLimit = new Gauge({
    name: "switchboard_team_budget_limit_usd",
    help: "Each team budget that this replica has seen in use, in USD per period.",
    labelNames: ["team", "period"] as const,
    registers: [this.registry],
    collect: () => this.refreshBudgetGauges(),
  });

  // Routing and resilience (src/gateway/routing, src/gateway/resilience).

  /** Set by the router: fills the circuit and health gauges from live state at scrape time. */
  refreshTargetGauges: () => void = () => {};

  readonly circuitState = new Gauge({
    name: "switchboard_circuit_state",
    help: "Circuit breaker state per provider model: 0 closed, 1 half-open, 2 open.",
    labelNames: ["provider", "model"] as const,
    registers: [this.registry],
    collect: () => this.refreshTargetGauges(),
  });

  readonly targetHealth = new Gauge({
    name: "switchboard_provider_health",
    help: "Health per provider model: 1 for the current state (healthy, degraded, unhealthy, unknown), 0 for the others.",
    labelNames: ["provider", "model", "state"] as const,
    registers: [this.registry],
    collect: () => this.refreshTargetGauges(),
  });

  readonly circuitTransitions = new Counter({
    name: "switchboard_circuit_transitions_total",
    help: "Circuit breaker state changes per provider model, by the state entered.",
    labelNames: ["provider", "model", "state"] as const,
    registers: [this.registry],
  });

  readonly retries = new Counter({
    name: "switchboard_retries_total",
    help: "Retries on the same target, by route, target and the error class that caused them.",
    labelNames: ["route", "provider", "model", "error_class"] as const,
    registers: [this.registry],
  });

  readonly failovers = new Counter({
    name: "switchboard_failovers_total",
    help: "Times a request moved on to the next target, by route, the target it left and the error class.",
    labelNames: ["route", "provider", "model", "error_class"] as const,
    registers: [this.registry],
  });

  readonly skippedTargets = new Counter({
    name: "switchboard_skipped_targets_total",
    help: "Targets passed over without an attempt, by reason: open (circuit open), busy (half-open trials in flight), throttled (upstream Retry-After).",
    labelNames: ["route", "provider", "model", "reason"] as const,
    registers: [this.registry],
  });

  // Upstream connection pools (src/gateway/providers/upstream-pool.ts), read at scrape time.

  readonly poolConnections = poolGauge(
    this.registry,
    "switchboard_upstream_pool_connections",
    "Upstream connections in use per provider (one per request or stream in flight).",
    (pool) => pool.inUse,
  );

  readonly poolMaxConnections = poolGauge(
    this.registry,
    "switchboard_upstream_pool_max_connections",
    "The cap on upstream connections per provider (spec.connectionPool.maxConnections).",
    (pool) => pool.maxConnections,
  );

  readonly poolWaiting = poolGauge(
    this.registry,
    "switchboard_upstream_pool_waiting",
    "Requests waiting for a free upstream connection per provider (at most spec.connectionPool.maxQueued).",
    (pool) => pool.waiting,
  );

  readonly poolRefused = new Counter({
    name: "switchboard_upstream_pool_refused_total",
    help: "Requests refused with 503 because the provider's connection pool was full, by reason: queue_full (maxQueued waiting already) or queue_timeout (no connection within queueTimeout).",
    labelNames: ["provider", "reason"] as const,
    registers: [this.registry],
    collect: () => {
      this.poolRefused.reset();
      for (const pool of upstreamPoolStats()) {
        this.poolRefused.inc({ provider: pool.providerId, reason: "queue_full" }, pool.refusedQueueFull);
        this.poolRefused.inc(
          { provider: pool.providerId, reason: "queue_timeout" },
          pool.refusedQueueTimeout,
        );
      }
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
