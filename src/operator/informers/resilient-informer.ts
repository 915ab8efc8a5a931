import {
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from "@kubernetes/client-node";
import type { Logger } from "../../shared/logging.js";
import { describeKubeError } from "../kube-errors.js";

export type InformerEvent = "add" | "update" | "delete";

export interface ResilientInformerOptions<T extends KubernetesObject> {
  /** Used in logs and metrics, e.g. `llmproviders/team-a`. */
  name: string;
  kubeConfig: KubeConfig;
  /** API path of the collection, e.g. /api/v1/namespaces/a/secrets. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  logger: Logger;
  onEvent: (event: InformerEvent, object: T) => void;
  onRestart?: () => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * A client-node informer that keeps going. client-node relists by itself on 410 Gone but stops
 * for good on any other error (API server restart, network drop, 5xx, 403): this wrapper restarts
 * it with exponential backoff, resuming the watch from the last resource version (a too-old one
 * comes back as 410 and turns into a relist).
 */
export class ResilientInformer<T extends KubernetesObject> {
  private readonly informer: Informer<T> & ObjectCache<T>;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private backoffMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private hasSynced = false;
  private resolveSynced!: () => void;
  readonly synced: Promise<void>;

  constructor(private readonly options: ResilientInformerOptions<T>) {
    this.minBackoffMs = options.minBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.backoffMs = this.minBackoffMs;
    this.synced = new Promise((resolve) => (this.resolveSynced = resolve));
    const list = async () => {
      const result = await options.list();
      this.backoffMs = this.minBackoffMs;
      // The informer fills its cache synchronously right after this promise settles.
      setImmediate(() => {
        this.hasSynced = true;
        this.resolveSynced();
      });
      return result;
    };
    this.informer = makeInformer(options.kubeConfig, options.path, list, options.labelSelector);
    this.informer.on("add", (obj) => options.onEvent("add", obj));
    this.informer.on("update", (obj) => options.onEvent("update", obj));
    this.informer.on("delete", (obj) => options.onEvent("delete", obj));
    this.informer.on("error", (err: unknown) => this.restartLater(err));
  }

  get isSynced(): boolean {
    return this.hasSynced;
  }

  /** Starts listing and watching; resolves once the first list has filled the cache. */
  async start(): Promise<void> {
    this.stopped = false;
    void this.informer.start();
    await this.synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  list(): readonly T[] {
    return this.informer.list();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  private restartLater(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.maxBackoffMs, this.backoffMs * 2);
    this.options.logger.warn(
      { informer: this.options.name, error: describeKubeError(err), retryInMs: delay },
      "watch failed; restarting the informer",
    );
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.options.onRestart?.();
      void this.informer.start();
    }, delay);
    this.restartTimer.unref();
  }
}
