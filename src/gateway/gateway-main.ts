import type { FastifyInstance } from "fastify";
import type { KubeConfig } from "@kubernetes/client-node";
import { createLogger, type Logger } from "../shared/logging.js";
import { ConfigStore } from "./config/config-store.js";
import { ManifestConfigSource } from "./config/manifest-config-source.js";
import type { KubernetesConfigSource } from "./config/kubernetes-config-source.js";
import { GatewayMetrics } from "./metrics.js";
import { createGatewayServer } from "./server/gateway-server.js";
import { createAdminServer } from "./server/admin-server.js";
import { Router } from "./routing/router.js";
import { createSharedState } from "./shared-state/create-shared-state.js";
import { ConsumerAuthenticator } from "./auth/consumer-auth.js";
import { ConsumerLimiter } from "./limits/consumer-limiter.js";
import { ProviderLimiter } from "./limits/provider-limiter.js";
import { ResponseCache } from "./cache/response-cache.js";
import { ShutdownDrain } from "./server/shutdown-drain.js";
import type { RequestLimits } from "./server/request-limits.js";

export interface GatewayOptions {
  /** Directory (or file) of manifests; set exactly one of manifests and kubernetesSnapshot. */
  manifests?: string;
  /** The snapshot Secret the operator publishes, watched over the API. */
  kubernetesSnapshot?: { kubeConfig: KubeConfig; namespace: string; name: string };
  host: string;
  port: number;
  watch: boolean;
  /** Body size, JSON shape and slow-client limits (src/gateway/server/request-limits.ts). */
  limits?: Partial<RequestLimits>;
  /** On close, how long to keep serving while not ready (see ShutdownDrain); 0 by default. */
  shutdownDelayMs?: number;
  logger?: Logger;
  /** Share limits, budgets and the response cache across replicas; per-replica memory without it. */
  redisUrl?: string;
  /** Verify ServiceAccount-token consumers with TokenReview through this cluster. */
  tokenReview?: { kubeConfig: KubeConfig; audiences?: string[] };
  /** Port of the admin listener (GET /admin/state, GET /metrics); none without it. 0 picks a free port. */
  adminPort?: number;
  /** Also serve GET /metrics on the public port, next to the client API (the old behaviour). */
  publicMetrics?: boolean;
  /** Address of the admin listener; 127.0.0.1 by default. */
  adminHost?: string;
}

export interface RunningGateway {
  url: string;
  store: ConfigStore;
  app: FastifyInstance;
  source: ManifestConfigSource | KubernetesConfigSource;
  router: Router;
  /** Base URL of the admin listener, when adminPort was set. */
  adminUrl?: string;
  close(): Promise<void>;
}

const LISTEN_BACKLOG = 4096;

/** Starts a gateway from manifests on disk (reloaded on change) or from the operator's snapshot Secret. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger("gateway");
  const store = new ConfigStore();
  const metrics = new GatewayMetrics();
  // Registered before the first snapshot loads, so circuits and probes track every snapshot.
  const router = new Router({ metrics });
  store.onChange((runtime) => router.applySnapshot(runtime));
  // Before the config source starts watching, so an unreachable Redis fails startup early.
  const sharedState = await createSharedState({
    redisUrl: options.redisUrl,
    logger,
    onError: (operation) => metrics.sharedStateErrors.inc({ operation }),
  });
  let source: ManifestConfigSource | KubernetesConfigSource;
  let initial: { version?: string };
  if (options.kubernetesSnapshot) {
    const { kubeConfig, namespace, name } = options.kubernetesSnapshot;
    // Imported only here: the Kubernetes client is the largest part of the gateway's idle memory.
    const { KubernetesConfigSource } = await import("./config/kubernetes-config-source.js");
    const kubernetes = new KubernetesConfigSource(kubeConfig, { namespace, name }, store, logger, metrics);
    // Without a snapshot yet the gateway still starts, not ready, and applies it when it appears.
    initial = await kubernetes.start();
    source = kubernetes;
  } else {
    if (!options.manifests) throw new Error("set manifests or kubernetesSnapshot");
    const manifests = new ManifestConfigSource(options.manifests, store, logger, metrics);
    const loaded = await manifests.reload();
    if (!loaded.version) {
      await sharedState.close();
      throw new Error(`no valid configuration in ${options.manifests}:\n  ${loaded.errors.join("\n  ")}`);
    }
    if (options.watch) manifests.watch();
    initial = loaded;
    source = manifests;
  }
  const tokenReviewer = options.tokenReview
    ? new (await import("./auth/token-reviewer.js")).KubernetesTokenReviewer(options.tokenReview.kubeConfig, {
        audiences: options.tokenReview.audiences,
      })
    : undefined;
  const traffic = {
    auth: new ConsumerAuthenticator(tokenReviewer),
    consumerLimits: new ConsumerLimiter(sharedState, Date.now, metrics),
    providerLimits: new ProviderLimiter(sharedState),
    cache: new ResponseCache(sharedState),
  };
  const drain = new ShutdownDrain();
  const app = createGatewayServer(
    { store, metrics, logger, traffic, router },
    { limits: options.limits, drain, publicMetrics: options.publicMetrics },
  );
  // Node's default accept backlog (511) drops SYNs when a burst of new streams meets a busy event
  // loop, and those clients wait out TCP's retransmits (1 s, then 3 s...): 1,000 connects to a busy
  // Node server overflowed it 1,993 times, and 0 times with 4,096. The kernel caps it at somaxconn.
  const address = await app.listen({ host: options.host, port: options.port, backlog: LISTEN_BACKLOG });
  logger.info({ url: address, configVersion: initial.version }, "gateway listening");
  if (options.publicMetrics)
    logger.warn(
      { url: address },
      "GET /metrics is also served on the public port: anyone who may call a model can read every route, consumer and cost figure",
    );
  const admin =
    options.adminPort === undefined
      ? undefined
      : createAdminServer({
          store,
          router,
          metrics,
          stateBackend: sharedState.backend,
          consumerUsage: (routes) => traffic.consumerLimits.usageReport(routes),
        });
  const adminUrl = await admin?.listen({ host: options.adminHost ?? "127.0.0.1", port: options.adminPort });
  if (adminUrl) logger.info({ url: adminUrl }, "admin listener (GET /admin/state, GET /metrics)");
  return {
    url: address,
    store,
    app,
    source,
    router,
    adminUrl,
    close: async () => {
      await drain.drain(options.shutdownDelayMs ?? 0);
      source.close();
      router.close();
      await app.close();
      await admin?.close();
      await sharedState.close();
      store.close();
    },
  };
}
