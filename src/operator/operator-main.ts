import { createServer, type Server } from "node:http";
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import {
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
} from "@kubernetes/client-node";
import { createLogger, type Logger } from "../shared/logging.js";
import { emptyCompileOutcome, resourceKey, setPublished } from "./compile-outcome.js";
import { StatusController } from "./controllers/status-controller.js";
import { SnapshotController } from "./controllers/snapshot-controller.js";
import { EventRecorder } from "./event-recorder.js";
import { GatewayStateCollector, type GatewayServiceRef } from "./gateway-state/gateway-state-collector.js";
import type { MergedGatewayState } from "./gateway-state/merge-gateway-states.js";
import {
  watchResources,
  type WatchedKind,
  type WatchedObject,
  type WatchedResources,
  type WatchScope,
} from "./informers/watched-resources.js";
import { describeKubeError } from "./kube-errors.js";
import { LeaderElector } from "./leader-election.js";
import { MigrationController } from "./migration/migration-controller.js";
import type { MigrationJobSettings } from "./migration/migration-job.js";
import { OperatorMetrics } from "./operator-metrics.js";
import { SnapshotPublisher, type SnapshotRef } from "./snapshot/snapshot-publisher.js";
import { StatusWriter } from "./status/status-writer.js";
import { desiredProviderStatus } from "./status/provider-status.js";
import { desiredRouteStatus } from "./status/route-status.js";
import { ACKNOWLEDGE_VECTOR_SPACE_CHANGE } from "./vector-space-guard.js";
import { WorkQueue } from "./work-queue.js";

export interface LeaderElectionSettings {
  namespace: string;
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  scope: WatchScope;
  snapshot: SnapshotRef;
  gatewayService?: GatewayServiceRef;
  gatewayAdminPort?: number;
  stateIntervalMs?: number;
  workers?: number;
  /** Serve /metrics, /healthz and /readyz here; omit to serve nothing. */
  metrics?: { host: string; port: number };
  /** Omit to run without leader election (a single replica). */
  leaderElection?: LeaderElectionSettings;
  identity?: string;
  logger?: Logger;
  /** How to run EmbeddingMigration workers; without it migrations wait in Pending with a condition. */
  migrationJobs?: MigrationJobSettings;
  /** Largest compressed chunk per Secret; lowered in tests to exercise multi-part snapshots. */
  snapshotPartBytes?: number;
}

export interface RunningOperator {
  identity: string;
  metricsUrl?: string;
  isLeader(): boolean;
  /** Resolves when the operator stops: with the reason leadership was lost, or undefined after close(). */
  done: Promise<string | undefined>;
  /** Graceful shutdown: stops the controllers and releases the lease. */
  close(): Promise<void>;
}

const SNAPSHOT_KEY = "snapshot";

/**
 * The operator: waits for leadership, then watches LLMProviders, LLMRoutes, EmbeddingMigrations
 * and Secrets, compiles them into the gateway config snapshot, writes conditions and the gateways'
 * merged health back into status, and runs each EmbeddingMigration as a Job.
 */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const logger = options.logger ?? createLogger("operator");
  const identity = options.identity ?? `${hostname()}_${randomUUID().slice(0, 8)}`;
  const kc = options.kubeConfig;
  const core = kc.makeApiClient(CoreV1Api);
  const metrics = new OperatorMetrics();
  const metricsServer = options.metrics
    ? await serveMetrics(metrics, options.metrics, () => controllers.synced)
    : undefined;
  const metricsUrl = metricsServer ? serverUrl(metricsServer, options.metrics!.host) : undefined;

  const elector = options.leaderElection
    ? new LeaderElector({
        leases: kc.makeApiClient(CoordinationV1Api),
        namespace: options.leaderElection.namespace,
        name: options.leaderElection.name,
        identity,
        leaseDurationMs: options.leaderElection.leaseDurationMs,
        renewDeadlineMs: options.leaderElection.renewDeadlineMs,
        retryPeriodMs: options.leaderElection.retryPeriodMs,
        logger,
        onNewLeader: (holder) =>
          logger.info({ leader: holder, self: holder === identity }, "observed leader"),
      })
    : undefined;

  const controllers = { synced: false, stop: async () => {} };
  let closing = false;
  let resolveDone!: (reason: string | undefined) => void;
  const done = new Promise<string | undefined>((resolve) => (resolveDone = resolve));

  const run = async (): Promise<void> => {
    if (elector) {
      logger.info(
        { identity, lease: `${options.leaderElection!.namespace}/${options.leaderElection!.name}` },
        "waiting for leadership",
      );
      try {
        await elector.acquire();
      } catch {
        return;
      }
    }
    if (closing) return;
    metrics.leader.set(1);
    const started = await runControllers({ ...options, logger, identity, core, operatorMetrics: metrics });
    if (closing) return started.stop();
    controllers.stop = started.stop;
    controllers.synced = true;
    if (!elector) return;
    const lost = await elector.holdLeadership();
    metrics.leader.set(0);
    if (lost !== undefined) {
      await controllers.stop();
      resolveDone(lost);
    }
  };
  run().catch((err: unknown) => {
    logger.error({ error: describeKubeError(err) }, "the operator failed");
    resolveDone(`failed: ${describeKubeError(err)}`);
  });

  return {
    identity,
    metricsUrl,
    isLeader: () => (elector ? elector.isLeader : true),
    done,
    close: async () => {
      closing = true;
      elector?.stop();
      await controllers.stop();
      await elector?.release();
      metrics.leader.set(0);
      await new Promise<void>((resolve) =>
        metricsServer ? metricsServer.close(() => resolve()) : resolve(),
      );
      resolveDone(undefined);
    },
  };
}

interface ControllerDeps extends Omit<OperatorOptions, "logger" | "identity" | "metrics"> {
  logger: Logger;
  identity: string;
  core: CoreV1Api;
  operatorMetrics: OperatorMetrics;
}

async function runControllers(deps: ControllerDeps): Promise<{ stop: () => Promise<void> }> {
  const { kubeConfig: kc, logger, operatorMetrics: metrics, core } = deps;
  const queue = new WorkQueue();
  const outcome = emptyCompileOutcome();
  const events = new EventRecorder(core, "switchboard-operator", deps.identity, logger);
  const writer = new StatusWriter(kc.makeApiClient(CustomObjectsApi));
  const publisher = new SnapshotPublisher(core, deps.snapshot, logger, deps.snapshotPartBytes);
  let gatewayState: MergedGatewayState | undefined;

  // The snapshot key jumps the queue: a route change must not wait behind status refreshes.
  const enqueue = (key: string) => {
    queue.add(key, key === SNAPSHOT_KEY);
    metrics.queueDepth.set(queue.length);
  };
  const enqueueAllStatuses = () => {
    for (const p of resources.providers.list())
      enqueue(resourceKey("LLMProvider", p.metadata!.namespace!, p.metadata!.name!));
    for (const r of resources.routes.list())
      enqueue(resourceKey("LLMRoute", r.metadata!.namespace!, r.metadata!.name!));
  };

  // A status write comes back as an update with the same compile inputs: that needs no recompile.
  const seenInputs = new Map<string, string>();
  const onEvent = (kind: WatchedKind, event: string, object: WatchedObject) => {
    const namespace = object.metadata?.namespace ?? "";
    const name = object.metadata?.name ?? "";
    if (kind === "Secret") {
      if (snapshots.isReferenced(object)) enqueue(SNAPSHOT_KEY);
      return;
    }
    if (kind === "Job") {
      const owner = object.metadata?.ownerReferences?.find((o) => o.kind === "EmbeddingMigration");
      if (owner) enqueue(resourceKey("EmbeddingMigration", namespace, owner.name));
      return;
    }
    const key = resourceKey(kind, namespace, name);
    if (event === "delete") {
      if (kind === "EmbeddingMigration") migrations.forget(object.metadata?.uid);
      seenInputs.delete(key);
      enqueue(SNAPSHOT_KEY);
      return;
    }
    enqueue(key);
    const inputs = compileInputs(object);
    if (seenInputs.get(key) !== inputs) {
      seenInputs.set(key, inputs);
      enqueue(SNAPSHOT_KEY);
    }
  };
  const resources: WatchedResources = watchResources(kc, deps.scope, logger, onEvent, (informer) =>
    metrics.informerRestarts.inc({ informer }),
  );
  const snapshots = new SnapshotController(
    resources,
    publisher,
    deps.snapshot,
    outcome,
    events,
    metrics,
    logger,
  );
  const providerController = new StatusController(
    { kind: "LLMProvider", plural: "llmproviders", desired: desiredProviderStatus },
    resources.providers,
    outcome,
    () => gatewayState,
    writer,
    events,
  );
  const migrations = new MigrationController(
    resources,
    {
      batch: kc.makeApiClient(BatchV1Api),
      core,
      rbac: kc.makeApiClient(RbacAuthorizationV1Api),
      custom: kc.makeApiClient(CustomObjectsApi),
    },
    deps.migrationJobs,
    () => outcome.published,
    events,
    deps.gatewayService ? async () => collector?.collect() : undefined,
  );
  const routeController = new StatusController(
    { kind: "LLMRoute", plural: "llmroutes", desired: desiredRouteStatus },
    resources.routes,
    outcome,
    () => gatewayState,
    writer,
    events,
  );

  const reconcile = async (key: string): Promise<void> => {
    if (key === SNAPSHOT_KEY) {
      const changed = await snapshots.reconcile();
      if (changed === "all") enqueueAllStatuses();
      else for (const statusKey of changed) enqueue(statusKey);
      return;
    }
    const [kind, namespace, name] = key.split("/") as [string, string, string];
    if (kind === "LLMProvider") await providerController.reconcile(namespace, name);
    else if (kind === "LLMRoute") await routeController.reconcile(namespace, name);
    else {
      const again = await migrations.reconcile(namespace, name);
      if (again !== undefined) queue.addAfter(key, again);
    }
  };

  let stopping = false;
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      metrics.queueDepth.set(queue.length);
      if (key === undefined) return;
      const controller = key === SNAPSHOT_KEY ? "snapshot" : key.split("/")[0]!;
      const endTimer = metrics.reconcileDuration.startTimer({ controller });
      try {
        await reconcile(key);
        queue.forget(key);
      } catch (err) {
        if (!stopping) {
          metrics.reconcileErrors.inc({ controller });
          const retryInMs = queue.addRateLimited(key);
          logger.warn({ key, error: describeKubeError(err), retryInMs }, "reconcile failed; requeued");
        }
      } finally {
        endTimer();
        queue.done(key);
      }
    }
  };

  const published = await publisher.readPublished();
  if (published) {
    setPublished(outcome, published);
    // Providers keep the configVersion their status already shows until their form changes.
    outcome.introducedIn.clear();
  }
  await resources.start();
  logger.info(
    {
      providers: resources.providers.list().length,
      routes: resources.routes.list().length,
      publishedVersion: published?.version ?? null,
    },
    "caches synced",
  );

  let collector: GatewayStateCollector | undefined;
  if (deps.gatewayService) {
    collector = new GatewayStateCollector({
      discovery: kc.makeApiClient(DiscoveryV1Api),
      service: deps.gatewayService,
      adminPort: deps.gatewayAdminPort,
      intervalMs: deps.stateIntervalMs ?? 10_000,
      logger,
      onScrape: (result) => metrics.gatewayScrapes.inc({ result }),
      onChange: (state) => {
        if (state.configVersion !== gatewayState?.configVersion) {
          logger.info(
            { configVersion: state.configVersion, gateways: state.gateways },
            "gateways serve config",
          );
        }
        gatewayState = state;
        enqueueAllStatuses();
      },
    });
    // Reconcile with the gateways' view from the start, so a restart does not blank health.
    gatewayState = await collector.collect();
    collector.start();
  }
  enqueue(SNAPSHOT_KEY);
  const workers = Array.from({ length: deps.workers ?? 2 }, () => worker());

  return {
    stop: async () => {
      stopping = true;
      collector?.stop();
      queue.shutdown();
      await resources.stop();
      await Promise.all(workers);
    },
  };
}

/**
 * What of an object the compile reads besides its spec: its generation, a route's acknowledgement,
 * a migration's phase and query-route switch (a running one adds its worker's route, one cutting
 * over switches spec.route).
 */
function compileInputs(object: WatchedObject): string {
  const status = object.status as
    { phase?: string; cutoverAt?: string; queryRoute?: { switchedAt?: string } } | undefined;
  return JSON.stringify([
    object.metadata?.generation ?? null,
    object.metadata?.annotations?.[ACKNOWLEDGE_VECTOR_SPACE_CHANGE] ?? null,
    object.kind === "EmbeddingMigration"
      ? [status?.phase ?? null, status?.cutoverAt ?? null, status?.queryRoute?.switchedAt ?? null]
      : null,
  ]);
}

async function serveMetrics(
  metrics: OperatorMetrics,
  where: { host: string; port: number },
  ready: () => boolean,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === "/metrics") {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text))
        .catch(() => res.writeHead(500).end());
    } else if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    } else if (req.url === "/readyz") {
      res.writeHead(200, { "content-type": "text/plain" }).end(ready() ? "ready" : "standby");
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(where.port, where.host, () => resolve());
  });
  return server;
}

function serverUrl(server: Server, host: string): string {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
