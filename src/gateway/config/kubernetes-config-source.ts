import { CoreV1Api, Watch, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import { z } from "zod";
import type { Logger } from "../../shared/logging.js";
import { LABEL_VERSION, readSnapshot } from "../../shared/snapshot-format.js";
import type { GatewayMetrics } from "../metrics.js";
import type { ConfigStore } from "./config-store.js";

export interface KubernetesSnapshotRef {
  namespace: string;
  name: string;
}

export interface SnapshotLoadResult {
  applied: boolean;
  version?: string;
  error?: string;
}

/**
 * Runs the gateway from the snapshot Secret(s) the operator publishes, watched over the API (not a
 * mounted volume, which the kubelet syncs only every minute or so). A snapshot that fails any
 * check is refused and the one in force keeps serving; the watch restarts on any error.
 */
export class KubernetesConfigSource {
  private readonly core: CoreV1Api;
  private abortWatch: AbortController | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private backoffMs = 250;
  private closed = false;
  private loading: Promise<SnapshotLoadResult> = Promise.resolve({ applied: false });

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly ref: KubernetesSnapshotRef,
    private readonly store: ConfigStore,
    private readonly logger: Logger,
    private readonly metrics?: GatewayMetrics,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Lists the head Secret, applies it and starts watching; resolves with the first load's result. */
  async start(): Promise<SnapshotLoadResult> {
    return this.listAndWatch();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.abortWatch?.abort();
  }

  private async listAndWatch(): Promise<SnapshotLoadResult> {
    let result: SnapshotLoadResult = { applied: false };
    try {
      const list = await this.core.listNamespacedSecret({
        namespace: this.ref.namespace,
        fieldSelector: `metadata.name=${this.ref.name}`,
      });
      const head = list.items[0];
      if (head) result = await this.load(head);
      else {
        result = {
          applied: false,
          error: `snapshot Secret ${this.ref.namespace}/${this.ref.name} does not exist yet`,
        };
        this.store.reject(result.error!);
        this.logger.warn({ snapshot: this.ref }, "waiting for the operator to publish the snapshot Secret");
      }
      await this.watch(list.metadata?.resourceVersion);
      this.backoffMs = 250;
    } catch (err) {
      this.restartLater(err);
      if (!result.error && !result.applied)
        result = { applied: false, error: (err as Error).message.split("\n")[0] };
    }
    return result;
  }

  private async watch(resourceVersion: string | undefined): Promise<void> {
    if (this.closed) return;
    this.abortWatch = await new Watch(this.kubeConfig).watch(
      `/api/v1/namespaces/${this.ref.namespace}/secrets`,
      {
        fieldSelector: `metadata.name=${this.ref.name}`,
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: 300,
      },
      (phase, object: V1Secret) => {
        if (phase === "ADDED" || phase === "MODIFIED") void this.load(object);
        else if (phase === "DELETED")
          this.logger.warn(
            { snapshot: this.ref },
            "the snapshot Secret was deleted; the config in force keeps serving",
          );
      },
      (err: unknown) => {
        if (this.closed) return;
        if (err) this.restartLater(err);
        else void this.listAndWatch();
      },
    );
  }

  private restartLater(err: unknown): void {
    if (this.closed) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(5_000, this.backoffMs * 2);
    this.logger.warn(
      { snapshot: this.ref, error: String((err as Error)?.message ?? err).split("\n")[0], retryInMs: delay },
      "snapshot watch failed; retrying",
    );
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.listAndWatch(), delay);
    this.restartTimer.unref();
  }

  /** Serialised so an older snapshot that finishes reading late never overwrites a newer one. */
  private load(head: V1Secret): Promise<SnapshotLoadResult> {
    this.loading = this.loading.then(() => this.loadOnce(head));
    return this.loading;
  }

  private async loadOnce(head: V1Secret): Promise<SnapshotLoadResult> {
    const before = this.store.current?.config.version;
    try {
      // A relist or an unrelated edit of the head re-delivers the version in force: skip the parts.
      if (before !== undefined && head.metadata?.annotations?.[LABEL_VERSION] === before) {
        return { applied: false, version: before };
      }
      const config = await readSnapshot(head, this.ref.namespace, this.core);
      if (config.version === before) return { applied: false, version: before };
      this.store.apply(config);
      this.metrics?.configReloads.inc({ result: "applied" });
      this.logger.info(
        {
          snapshot: this.ref,
          version: config.version,
          providers: config.providers.length,
          routes: config.routes.length,
        },
        "config applied",
      );
      return { applied: true, version: config.version };
    } catch (err) {
      const detail =
        err instanceof z.ZodError
          ? z.prettifyError(err).split("\n").join(" ")
          : (err as Error).message.split("\n")[0];
      const reason = `snapshot ${this.ref.namespace}/${this.ref.name} refused: ${detail}`;
      this.store.reject(reason);
      this.metrics?.configReloads.inc({ result: "refused" });
      this.logger.error(
        { snapshot: this.ref, servingVersion: before ?? null, error: reason },
        "config refused; the previous config keeps serving",
      );
      return { applied: false, error: reason };
    }
  }
}
