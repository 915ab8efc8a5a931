import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from "@kubernetes/client-node";
import type { Logger } from "../../shared/logging.js";
import { API_GROUP, API_VERSION } from "../../shared/schemas/common.js";
import { ResilientInformer, type InformerEvent } from "./resilient-informer.js";

/** Which namespaces the operator watches: every one, or a list. */
export type WatchScope = { allNamespaces: true } | { allNamespaces: false; namespaces: string[] };

export type WatchedKind = "LLMProvider" | "LLMRoute" | "EmbeddingMigration" | "Secret" | "Job";

/** The fields of a watched object the controllers read. */
export interface WatchedObject extends KubernetesObject {
  spec?: unknown;
  status?: unknown;
  data?: Record<string, string>;
}

/** One kind's informers (one per namespace, or one cluster-wide) behind a single cache. */
export class KindCache {
  constructor(
    readonly kind: WatchedKind,
    private readonly informers: Map<string, ResilientInformer<WatchedObject>>,
  ) {}

  list(): WatchedObject[] {
    return [...this.informers.values()].flatMap((informer) => [...informer.list()]);
  }

  get(namespace: string, name: string): WatchedObject | undefined {
    const informer = this.informers.get(namespace) ?? this.informers.get("");
    return informer?.get(name, namespace);
  }

  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.start()));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
  }
}

export interface WatchedResources {
  providers: KindCache;
  routes: KindCache;
  migrations: KindCache;
  secrets: KindCache;
  /** Only the Jobs the operator made (MIGRATION_JOB_SELECTOR). */
  jobs: KindCache;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const PLURALS = {
  LLMProvider: "llmproviders",
  LLMRoute: "llmroutes",
  EmbeddingMigration: "embeddingmigrations",
} as const;

/** The label selecting the Jobs the operator runs EmbeddingMigrations in. */
export const MIGRATION_JOB_LABEL = "llm.switchboard.dev/embedding-migration";

/**
 * Informers for LLMProviders, LLMRoutes, EmbeddingMigrations, Secrets and the operator's migration
 * Jobs in the watched namespaces. Objects from lists
 * lack apiVersion/kind (only watch events carry them), so both are set on every cached object.
 */
export function watchResources(
  kubeConfig: KubeConfig,
  scope: WatchScope,
  logger: Logger,
  onEvent: (kind: WatchedKind, event: InformerEvent, object: WatchedObject) => void,
  onRestart?: (informer: string) => void,
): WatchedResources {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const namespaces = scope.allNamespaces ? [""] : scope.namespaces;

  const stamp = (kind: WatchedKind, object: WatchedObject): WatchedObject => {
    object.apiVersion =
      kind === "Secret" ? "v1" : kind === "Job" ? "batch/v1" : `${API_GROUP}/${API_VERSION}`;
    object.kind = kind;
    return object;
  };

  const build = (kind: WatchedKind): KindCache => {
    const informers = new Map<string, ResilientInformer<WatchedObject>>();
    for (const namespace of namespaces) {
      let path: string;
      let list: () => Promise<KubernetesListObject<WatchedObject>>;
      let labelSelector: string | undefined;
      if (kind === "Job") {
        labelSelector = MIGRATION_JOB_LABEL;
        path = `/apis/batch/v1/${namespace ? `namespaces/${namespace}/` : ""}jobs`;
        list = async () => {
          const result = (
            namespace
              ? await batch.listNamespacedJob({ namespace, labelSelector })
              : await batch.listJobForAllNamespaces({ labelSelector })
          ) as KubernetesListObject<WatchedObject>;
          result.items.forEach((item) => stamp(kind, item));
          return result;
        };
      } else if (kind === "Secret") {
        path = namespace ? `/api/v1/namespaces/${namespace}/secrets` : "/api/v1/secrets";
        list = async () => {
          const result = (
            namespace
              ? await core.listNamespacedSecret({ namespace })
              : await core.listSecretForAllNamespaces()
          ) as KubernetesListObject<WatchedObject>;
          result.items.forEach((item) => stamp(kind, item));
          return result;
        };
      } else {
        const plural = PLURALS[kind];
        path = `/apis/${API_GROUP}/${API_VERSION}/${namespace ? `namespaces/${namespace}/` : ""}${plural}`;
        list = async () => {
          const result = (
            namespace
              ? await custom.listNamespacedCustomObject({
                  group: API_GROUP,
                  version: API_VERSION,
                  namespace,
                  plural,
                })
              : await custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural })
          ) as KubernetesListObject<WatchedObject>;
          result.items.forEach((item) => stamp(kind, item));
          return result;
        };
      }
      const name = `${kind}/${namespace || "*"}`;
      informers.set(
        namespace,
        new ResilientInformer<WatchedObject>({
          name,
          kubeConfig,
          path,
          list,
          labelSelector,
          logger,
          onEvent: (event, object) => onEvent(kind, event, stamp(kind, object)),
          onRestart: () => onRestart?.(name),
        }),
      );
    }
    return new KindCache(kind, informers);
  };

  const providers = build("LLMProvider");
  const routes = build("LLMRoute");
  const migrations = build("EmbeddingMigration");
  const secrets = build("Secret");
  const jobs = build("Job");
  const all = [providers, routes, migrations, secrets, jobs];
  return {
    providers,
    routes,
    migrations,
    secrets,
    jobs,
    start: async () => {
      await Promise.all(all.map((cache) => cache.start()));
    },
    stop: async () => {
      await Promise.all(all.map((cache) => cache.stop()));
    },
  };
}
