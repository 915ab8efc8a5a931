#!/usr/bin/env node
import cluster from "node:cluster";
import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_REQUEST_LIMITS } from "./gateway/server/request-limits.js";
import { createDemoUpstream } from "./demo/demo-upstream.js";
import { compile, formatDiagnostic } from "./shared/compile.js";
import { loadManifests } from "./shared/manifests.js";
import { createLogger, type Logger } from "./shared/logging.js";
import { durationToMs } from "./shared/schemas/common.js";
import type { KubeConfig } from "@kubernetes/client-node";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("must be a port number (0-65535)");
  return n;
}

/** Closes cleanly on SIGINT/SIGTERM, then exits 0. */
function exitOnSignals(logger: Logger, close: () => Promise<unknown>): void {
  const shutdown = async (signal: string) => {
    logger.info({ signal }, "shutting down");
    await close();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

async function startDemoUpstream(
  logger: Logger,
  host: string,
  demoPort: number,
): Promise<() => Promise<unknown>> {
  const demo = createDemoUpstream();
  await demo.listen({ host, port: demoPort });
  logger.info(
    { url: `http://${host}:${demoPort}/v1` },
    "DEMO upstream started: it echoes prompts; it is not a real model",
  );
  return () => demo.close();
}

const program = new Command()
  .name("switchboard")
  .description("Switchboard: an LLM gateway configured by Kubernetes resources");

/** `namespace/name`, as in --snapshot-secret and --gateway-service. */
function namespacedName(value: string): { namespace: string; name: string } {
  const match = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)$/.exec(value);
  if (!match)
    throw new InvalidArgumentError("must be namespace/name, e.g. switchboard-system/gateway-config");
  return { namespace: match[1]!, name: match[2]! };
}

function durationMs(value: string): number {
  if (!/^\d+(ms|s|m|h)$/.test(value))
    throw new InvalidArgumentError("must be a duration like 500ms, 10s or 1m");
  return durationToMs(value);
}

/** A duration flag whose help shows its default as written (10s), not in milliseconds. */
function durationOption(flags: string, description: string, defaultDuration: string): Option {
  return new Option(flags, description)
    .argParser(durationMs)
    .default(durationMs(defaultDuration), defaultDuration);
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
}

/**
 * --kubeconfig, else $KUBECONFIG, ~/.kube/config or the in-cluster ServiceAccount. Each command
 * imports what it runs when it runs: a gateway without Kubernetes never loads the client (72 MiB).
 */
async function loadKubeConfig(path: string | undefined): Promise<KubeConfig> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

program
  .command("gateway")
  .description(
    "Run the gateway from LLMProvider/LLMRoute/Secret manifests on disk (reloads on change), " +
      "or from the snapshot the operator publishes (--kubernetes-snapshot)",
  )
  .option("--manifests <dir>", "directory (or file) of YAML manifests")
  .option(
    "--kubernetes-snapshot <namespace/name>",
    "serve the config snapshot Secret the operator publishes, watched over the Kubernetes API",
    namespacedName,
  )
  .option(
    "--kubeconfig <path>",
    "kubeconfig for --kubernetes-snapshot and for verifying ServiceAccount consumers (default: $KUBECONFIG or in-cluster)",
  )
  .option(
    "--redis-url <url>",
    "share rate limits, budgets and the response cache across replicas through Redis " +
      "(default: $SWITCHBOARD_REDIS_URL; per-replica memory when unset)",
  )
  .option(
    "--no-token-review",
    "do not verify ServiceAccount tokens with TokenReview (on by default in a cluster or with --kubeconfig)",
  )
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--port <port>", "port to listen on", port, 8080)
  .option(
    "--workers <n>",
    "gateway processes sharing the ports, to use every core outside Kubernetes (node:cluster); each " +
      "keeps its own circuits, metrics and, without --redis-url, its own limits and cache",
    positiveInt,
    1,
  )
  .option("--no-watch", "do not reload when the manifests change")
  .option(
    "--admin-host <host>",
    "address of the admin listener (GET /admin/state, GET /metrics)",
    "127.0.0.1",
  )
  .option("--admin-port <port>", "port of the admin listener, kept apart from the public port", port, 9090)
  .option(
    "--public-metrics",
    "also serve GET /metrics on the public port, next to the client API (off: anyone who may call " +
      "a model could read every route, consumer and cost figure)",
  )
  .option(
    "--shutdown-delay <duration>",
    "on SIGTERM, keep serving this long while reporting not ready and closing keep-alive " +
      "connections, so a Service moves clients to other replicas first (e.g. 5s in a cluster)",
    durationMs,
    0,
  )
  .option(
    "--max-body-size <bytes>",
    "largest request body accepted",
    positiveInt,
    DEFAULT_REQUEST_LIMITS.bodyBytes,
  )
  .option(
    "--max-json-depth <n>",
    "deepest JSON nesting accepted in a body",
    positiveInt,
    DEFAULT_REQUEST_LIMITS.jsonDepth,
  )
  .option(
    "--max-json-values <n>",
    "most JSON values accepted in a body",
    positiveInt,
    DEFAULT_REQUEST_LIMITS.jsonValues,
  )
  .option(
    "--headers-timeout <duration>",
    "a client must send its request headers within this",
    durationMs,
    DEFAULT_REQUEST_LIMITS.headersTimeoutMs,
  )
  .option(
    "--request-timeout <duration>",
    "a client must send its whole request (headers and body) within this; answers may take longer",
    durationMs,
    DEFAULT_REQUEST_LIMITS.requestTimeoutMs,
  )
  .option(
    "--keep-alive-timeout <duration>",
    "close an idle keep-alive connection after this",
    durationMs,
    DEFAULT_REQUEST_LIMITS.keepAliveTimeoutMs,
  )
  .option(
    "--demo-upstream [port]",
    "also start the local demo OpenAI-compatible upstream (default port 8081)",
  )
  .action(
    async (opts: {
      manifests?: string;
      kubernetesSnapshot?: { namespace: string; name: string };
      kubeconfig?: string;
      host: string;
      port: number;
      watch: boolean;
      redisUrl?: string;
      tokenReview: boolean;
      adminHost: string;
      adminPort: number;
      publicMetrics?: boolean;
      shutdownDelay: number;
      maxBodySize: number;
      maxJsonDepth: number;
      maxJsonValues: number;
      headersTimeout: number;
      requestTimeout: number;
      keepAliveTimeout: number;
      demoUpstream?: string | boolean;
      workers: number;
    }) => {
      if (Boolean(opts.manifests) === Boolean(opts.kubernetesSnapshot)) {
        throw new Error("set exactly one of --manifests and --kubernetes-snapshot");
      }
      const root = createLogger("gateway", { buffered: true });
      if (opts.workers > 1 && cluster.isPrimary) {
        const { superviseWorkers } = await import("./gateway/gateway-workers.js");
        process.exit(await superviseWorkers(opts.workers, root));
      }
      // A worker's lines say which worker wrote them.
      const logger = cluster.isWorker ? root.child({ worker: process.pid }) : root;
      const closers: Array<() => Promise<unknown>> = [];
      if (opts.demoUpstream) {
        const demoPort = typeof opts.demoUpstream === "string" ? port(opts.demoUpstream) : 8081;
        closers.push(await startDemoUpstream(logger, "127.0.0.1", demoPort));
      }
      const needsKube = Boolean(
        opts.kubernetesSnapshot ||
        (opts.tokenReview && (opts.kubeconfig || process.env.KUBERNETES_SERVICE_HOST)),
      );
      const kubeConfig = needsKube ? await loadKubeConfig(opts.kubeconfig) : undefined;
      const { startGateway } = await import("./gateway/gateway-main.js");
      const gateway = await startGateway({
        manifests: opts.manifests,
        kubernetesSnapshot:
          kubeConfig && opts.kubernetesSnapshot ? { kubeConfig, ...opts.kubernetesSnapshot } : undefined,
        host: opts.host,
        port: opts.port,
        watch: opts.watch,
        redisUrl: opts.redisUrl ?? (process.env.SWITCHBOARD_REDIS_URL || undefined),
        tokenReview: kubeConfig && opts.tokenReview ? { kubeConfig } : undefined,
        adminHost: opts.adminHost,
        adminPort: opts.adminPort,
        publicMetrics: opts.publicMetrics,
        shutdownDelayMs: opts.shutdownDelay,
        limits: {
          bodyBytes: opts.maxBodySize,
          jsonDepth: opts.maxJsonDepth,
          jsonValues: opts.maxJsonValues,
          headersTimeoutMs: opts.headersTimeout,
          requestTimeoutMs: opts.requestTimeout,
          keepAliveTimeoutMs: opts.keepAliveTimeout,
        },
        logger,
      });
      closers.unshift(() => gateway.close());
      exitOnSignals(logger, async () => {
        for (const close of closers) await close();
      });
    },
  );

program
  .command("demo-upstream")
  .description(
    "Run only the demo OpenAI-compatible upstream (echoes prompts; not a real model), e.g. as an " +
      "in-cluster stand-in for vLLM/Ollama",
  )
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--port <port>", "port to listen on", port, 8081)
  .action(async (opts: { host: string; port: number }) => {
    const logger = createLogger("demo-upstream");
    exitOnSignals(logger, await startDemoUpstream(logger, opts.host, opts.port));
  });

program
  .command("compile")
  .description("Validate manifests and print the compiled gateway config (credentials redacted)")
  .argument("<dir>", "directory (or file) of YAML manifests")
  .action(async (dir: string) => {
    const result = compile(await loadManifests(dir));
    for (const d of result.diagnostics) console.error(formatDiagnostic(d));
    if (!result.config) process.exit(1);
    const redacted = {
      ...result.config,
      providers: result.config.providers.map((p) => ({
        ...p,
        credentials:
          p.credentials.mode === "apiKey" ? { mode: "apiKey", apiKey: "[REDACTED]" } : p.credentials,
      })),
    };
    process.stdout.write(`${JSON.stringify(redacted, null, 2)}\n`);
  });

program
  .command("operator")
  .description(
    "Run the operator: compile the watched LLMProviders, LLMRoutes and Secrets into the gateway config " +
      "snapshot, and write conditions and the gateways' health back into status",
  )
  .requiredOption(
    "--snapshot-secret <namespace/name>",
    "Secret the compiled gateway config is published to (gateways watch it)",
    namespacedName,
  )
  .option("--namespaces <list>", "comma-separated namespaces to watch")
  .option("--all-namespaces", "watch every namespace")
  .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config or in-cluster)")
  .option(
    "--gateway-service <namespace/name>",
    "Service of the gateway pods whose /admin/state is merged into status",
    namespacedName,
  )
  .option(
    "--gateway-admin-port <port>",
    "port of /admin/state (default: the Service port named admin or http)",
    port,
  )
  .addOption(
    durationOption("--state-interval <duration>", "how often to read the gateways' /admin/state", "10s"),
  )
  .option("--metrics-host <host>", "address of the metrics server (/metrics, /healthz, /readyz)", "127.0.0.1")
  .option("--metrics-port <port>", "port of the metrics server", port, 8090)
  .option("--no-leader-election", "run without a Lease (only ever one replica)")
  .option(
    "--leader-election-namespace <namespace>",
    "namespace of the Lease (default: the snapshot Secret's)",
  )
  .option("--leader-election-id <name>", "name of the Lease", "switchboard-operator")
  .addOption(
    durationOption("--lease-duration <duration>", "how long a standby waits for a silent leader", "15s"),
  )
  .addOption(
    durationOption(
      "--renew-deadline <duration>",
      "how long the leader retries renewing before stepping down",
      "10s",
    ),
  )
  .addOption(durationOption("--retry-period <duration>", "time between lease attempts", "2s"))
  .option("--workers <n>", "concurrent reconciles", positiveInt, 2)
  .option(
    "--migration-image <image>",
    "image of the EmbeddingMigration Jobs (switchboard migrate); the operator's own (the chart sets it)",
  )
  .option(
    "--migration-gateway-url <url>",
    "gateway URL the migration workers embed through, e.g. http://switchboard-gateway.switchboard-system:8080",
  )
  .option("--migration-image-pull-policy <policy>", "imagePullPolicy of the migration Jobs")
  .action(
    async (opts: {
      snapshotSecret: { namespace: string; name: string };
      namespaces?: string;
      allNamespaces?: boolean;
      kubeconfig?: string;
      gatewayService?: { namespace: string; name: string };
      gatewayAdminPort?: number;
      stateInterval: number;
      metricsHost: string;
      metricsPort: number;
      leaderElection: boolean;
      leaderElectionNamespace?: string;
      leaderElectionId: string;
      leaseDuration: number;
      renewDeadline: number;
      retryPeriod: number;
      workers: number;
      migrationImage?: string;
      migrationGatewayUrl?: string;
      migrationImagePullPolicy?: string;
    }) => {
      const namespaces = (opts.namespaces ?? "")
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean);
      if (Boolean(opts.allNamespaces) === namespaces.length > 0) {
        throw new Error("set exactly one of --namespaces a,b and --all-namespaces");
      }
      if (Boolean(opts.migrationImage) !== Boolean(opts.migrationGatewayUrl)) {
        throw new Error("set both --migration-image and --migration-gateway-url, or neither");
      }
      const logger = createLogger("operator");
      const { startOperator } = await import("./operator/operator-main.js");
      const operator = await startOperator({
        kubeConfig: await loadKubeConfig(opts.kubeconfig),
        scope: opts.allNamespaces ? { allNamespaces: true } : { allNamespaces: false, namespaces },
        snapshot: opts.snapshotSecret,
        gatewayService: opts.gatewayService,
        gatewayAdminPort: opts.gatewayAdminPort,
        stateIntervalMs: opts.stateInterval,
        workers: opts.workers,
        migrationJobs: opts.migrationImage
          ? {
              image: opts.migrationImage,
              gatewayUrl: opts.migrationGatewayUrl!,
              imagePullPolicy: opts.migrationImagePullPolicy,
            }
          : undefined,
        metrics: { host: opts.metricsHost, port: opts.metricsPort },
        leaderElection: opts.leaderElection
          ? {
              namespace: opts.leaderElectionNamespace ?? opts.snapshotSecret.namespace,
              name: opts.leaderElectionId,
              leaseDurationMs: opts.leaseDuration,
              renewDeadlineMs: opts.renewDeadline,
              retryPeriodMs: opts.retryPeriod,
            }
          : undefined,
        logger,
      });
      logger.info({ identity: operator.identity, metrics: operator.metricsUrl }, "operator started");
      exitOnSignals(logger, () => operator.close());
      const reason = await operator.done;
      if (reason !== undefined) {
        // Exit so the Deployment restarts us as a fresh candidate, as client-go operators do.
        logger.error({ reason }, "stopping: leadership lost");
        process.exit(1);
      }
    },
  );

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError("must be a number, 0 or more");
  return n;
}

function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError("must be a URL such as http://switchboard-gateway:8080");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InvalidArgumentError("must be an http(s) URL");
  return value;
}

program
  .command("migrate")
  .description(
    "Run an EmbeddingMigration (what the operator's Job runs): re-embed the rows through the gateway, " +
      "resumable from the checkpoint in the store, then cut over. Store URL from $SWITCHBOARD_STORE_URL, " +
      "optional gateway credential from $SWITCHBOARD_GATEWAY_API_KEY (a consumer key) or " +
      "$SWITCHBOARD_GATEWAY_TOKEN_FILE (a ServiceAccount token file, re-read per request). Exit 0 done, 2 failed for good " +
      "(status says why), other non-zero: retry",
  )
  .requiredOption("--migration <namespace/name>", "the EmbeddingMigration to run", namespacedName)
  .requiredOption(
    "--gateway-url <url>",
    "base URL of the gateway, e.g. http://switchboard-gateway:8080",
    httpUrl,
  )
  .requiredOption("--embedding-model <name>", "model name to send to the gateway's /v1/embeddings")
  .option(
    "--input-price-per-1m <usd>",
    "target model's input price per 1M tokens, for the plan's cost",
    nonNegativeNumber,
  )
  .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config or in-cluster)")
  .action(
    async (opts: {
      migration: { namespace: string; name: string };
      gatewayUrl: string;
      embeddingModel: string;
      inputPricePer1m?: number;
      kubeconfig?: string;
    }) => {
      const logger = createLogger("migrate");
      const stop = new AbortController();
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
          logger.info({ signal }, "stopping; the batch in flight is not committed and is redone on resume");
          stop.abort();
        });
      }
      const { runWorker } = await import("./migration/worker-main.js");
      const code = await runWorker({
        kubeConfig: await loadKubeConfig(opts.kubeconfig),
        ...opts.migration,
        gatewayUrl: opts.gatewayUrl,
        embeddingModel: opts.embeddingModel,
        inputPricePer1M: opts.inputPricePer1m,
        storeUrl: process.env.SWITCHBOARD_STORE_URL || undefined,
        gatewayApiKey: process.env.SWITCHBOARD_GATEWAY_API_KEY || undefined,
        gatewayTokenFile: process.env.SWITCHBOARD_GATEWAY_TOKEN_FILE || undefined,
        logger,
        signal: stop.signal,
      });
      logger.flush();
      process.exit(code);
    },
  );

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`switchboard: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
