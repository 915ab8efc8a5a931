import type { FastifyInstance } from "fastify";
import type { KubeConfig } from "@kubernetes/client-node";
import { createLogger, type Logger } from "../shared/logging.js";
import { ConfigStore } from "./config/config-store.js";
import { ManifestConfigSource } from "./config/manifest-config-source.js";
import { KubernetesConfigSource } from "./config/kubernetes-config-source.js";
import { GatewayMetrics } from "./metrics.js";
import { createGatewayServer } from "./server/gateway-server.js";

export interface GatewayOptions {
  /** Directory (or file) of manifests; set exactly one of manifests and kubernetesSnapshot. */
  manifests?: string;
  /** The snapshot Secret the operator publishes, watched over the API. */
  kubernetesSnapshot?: { kubeConfig: KubeConfig; namespace: string; name: string };
  host: string;
  port: number;
  watch: boolean;
  bodyLimitBytes?: number;
  logger?: Logger;
}

export interface RunningGateway {
  url: string;
  store: ConfigStore;
  app: FastifyInstance;
  source: ManifestConfigSource | KubernetesConfigSource;
  close(): Promise<void>;
}

/** Starts a gateway serving the manifests in a directory, reloading them on change. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger("gateway");
  const store = new ConfigStore();
  const metrics = new GatewayMetrics();
  let source: ManifestConfigSource | KubernetesConfigSource;
  let initial: { version?: string };
  if (options.kubernetesSnapshot) {
    const { kubeConfig, namespace, name } = options.kubernetesSnapshot;
    const kubernetes = new KubernetesConfigSource(kubeConfig, { namespace, name }, store, logger, metrics);
    // Without a snapshot yet the gateway still starts, not ready, and applies it when it appears.
    initial = await kubernetes.start();
    source = kubernetes;
  } else {
    if (!options.manifests) throw new Error("set manifests or kubernetesSnapshot");
    const manifests = new ManifestConfigSource(options.manifests, store, logger, metrics);
    const loaded = await manifests.reload();
    if (!loaded.version) {
      throw new Error(`no valid configuration in ${options.manifests}:\n  ${loaded.errors.join("\n  ")}`);
    }
    if (options.watch) manifests.watch();
    initial = loaded;
    source = manifests;
  }
  const app = createGatewayServer({ store, metrics, logger }, { bodyLimitBytes: options.bodyLimitBytes });
  const address = await app.listen({ host: options.host, port: options.port });
  logger.info({ url: address, configVersion: initial.version }, "gateway listening");
  return {
    url: address,
    store,
    app,
    source,
    close: async () => {
      source.close();
      await app.close();
    },
  };
}
