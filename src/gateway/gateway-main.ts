import type { FastifyInstance } from "fastify";
import { createLogger, type Logger } from "../shared/logging.js";
import { ConfigStore } from "./config/config-store.js";
import { ManifestConfigSource } from "./config/manifest-config-source.js";
import { GatewayMetrics } from "./metrics.js";
import { createGatewayServer } from "./server/gateway-server.js";

export interface GatewayOptions {
  manifests: string;
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
  source: ManifestConfigSource;
  close(): Promise<void>;
}

/** Starts a gateway serving the manifests in a directory, reloading them on change. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger("gateway");
  const store = new ConfigStore();
  const metrics = new GatewayMetrics();
  const source = new ManifestConfigSource(options.manifests, store, logger, metrics);
  const initial = await source.reload();
  if (!initial.version) {
    throw new Error(`no valid configuration in ${options.manifests}:\n  ${initial.errors.join("\n  ")}`);
  }
  if (options.watch) source.watch();
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
