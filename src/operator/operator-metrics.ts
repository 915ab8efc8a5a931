import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Controller metrics, served on the operator's metrics port. */
export class OperatorMetrics {
  readonly registry = new Registry();

  readonly reconcileDuration = new Histogram({
    name: "switchboard_operator_reconcile_duration_seconds",
    help: "Time spent in one reconcile, by controller.",
    labelNames: ["controller"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly reconcileErrors = new Counter({
    name: "switchboard_operator_reconcile_errors_total",
    help: "Reconciles that failed and were requeued with backoff, by controller.",
    labelNames: ["controller"] as const,
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: "switchboard_operator_workqueue_depth",
    help: "Keys waiting in the work queue.",
    registers: [this.registry],
  });

  readonly leader = new Gauge({
    name: "switchboard_operator_leader",
    help: "1 while this replica holds the leader lease.",
    registers: [this.registry],
  });

  readonly snapshotPublishes = new Counter({
    name: "switchboard_operator_snapshot_publishes_total",
    help: "Compiles by outcome: written (a new snapshot) or unchanged.",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  readonly refusedNamespaces = new Gauge({
    name: "switchboard_operator_refused_namespaces",
    help: "Namespaces whose resources are invalid, so they keep serving their last good config.",
    registers: [this.registry],
  });

  readonly snapshotBytes = new Gauge({
    name: "switchboard_operator_snapshot_bytes",
    help: "Compressed size of the published snapshot.",
    registers: [this.registry],
  });

  readonly gatewayScrapes = new Counter({
    name: "switchboard_operator_gateway_state_scrapes_total",
    help: "GET /admin/state calls to gateway pods, by result.",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  readonly informerRestarts = new Counter({
    name: "switchboard_operator_informer_restarts_total",
    help: "Informer restarts after watch errors, by informer.",
    labelNames: ["informer"] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
