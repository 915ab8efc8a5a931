import {
  PatchStrategy,
  setHeaderOptions,
  type BatchV1Api,
  type CoreV1Api,
  type CustomObjectsApi,
  type RbacAuthorizationV1Api,
  type V1Job,
} from "@kubernetes/client-node";
import { API_GROUP, API_VERSION } from "../../shared/schemas/common.js";
import type {
  EmbeddingMigration,
  EmbeddingMigrationStatus,
  MigrationPhase,
} from "../../shared/schemas/embedding-migration.js";
import type { GatewayConfig } from "../../shared/schemas/gateway-config.js";
import type { EventRecorder, ObjectReference } from "../event-recorder.js";
import type { KindCache } from "../informers/watched-resources.js";
import { isApiError } from "../kube-errors.js";
import { mergeConditions, type DesiredCondition } from "../../shared/conditions.js";
import { migrationJob, migrationJobName, type MigrationJobSettings } from "./migration-job.js";
import { asMigration, migrationModelName, publishedServesTarget } from "./migration-routes.js";
import { workerRbac } from "./worker-rbac.js";

const FIELD_MANAGER = "switchboard-operator";
/** status.queryRoute is applied on its own; a manager of its own keeps the other fields it owns. */
const QUERY_ROUTE_MANAGER = "switchboard-operator-query-route";
/** How soon a migration in CuttingOver is looked at again while the gateways catch up. */
export const QUERY_ROUTE_RECHECK_MS = 250;

/** What the gateways serve, read fresh; undefined when the operator watches no gateways. */
export type GatewayVersions = () => Promise<
  { endpoints: number; configVersions: Array<string | null> } | undefined
>;
const TERMINAL: ReadonlySet<MigrationPhase | undefined> = new Set(["Succeeded", "Failed"]);

export interface MigrationApis {
  batch: Pick<BatchV1Api, "createNamespacedJob">;
  core: Pick<CoreV1Api, "createNamespacedServiceAccount">;
  rbac: Pick<RbacAuthorizationV1Api, "createNamespacedRole" | "createNamespacedRoleBinding">;
  custom: Pick<CustomObjectsApi, "patchNamespacedCustomObjectStatus">;
}

/** Creates an object, treating "already exists" as done (reconciles repeat). */
async function createOnce(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!isApiError(err, 409)) throw err;
  }
}

function failedCondition(job: V1Job | undefined): { reason?: string; message?: string } | undefined {
  return job?.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
}

/**
 * Runs each EmbeddingMigration as a Job: creates the worker's ServiceAccount and Role and the Job
 * (all owned by the migration), sets phase Pending, sets Failed when the Job fails for good, and
 * records an Event on every phase change (the worker writes the phases in between).
 */
export class MigrationController {
  /** uid → the phase last seen, to report changes once. */
  private readonly phases = new Map<string, MigrationPhase | undefined>();

  constructor(
    private readonly caches: { migrations: KindCache; jobs: KindCache },
    private readonly apis: MigrationApis,
    private readonly settings: MigrationJobSettings | undefined,
    private readonly published: () => GatewayConfig | undefined,
    private readonly events: EventRecorder,
    /** Without it (no --gateway-service), publishing the snapshot counts as the switch. */
    private readonly gatewayVersions?: GatewayVersions,
  ) {}

  /** Returns a delay after which to reconcile the migration again, when it waits on the gateways. */
  async reconcile(namespace: string, name: string): Promise<number | undefined> {
    const object = this.caches.migrations.get(namespace, name);
    const migration = object && asMigration(object);
    if (!migration || migration.metadata.deletionTimestamp) return undefined;
    this.reportPhase(migration);
    const phase = migration.status?.phase;
    if (TERMINAL.has(phase)) return undefined;
    if (!this.settings) {
      await this.applyStatus(migration, "Pending", {
        type: "Ready",
        status: "False",
        reason: "WorkerNotConfigured",
        message:
          "this operator runs without --migration-image and --migration-gateway-url, so it starts no workers; set them (the chart does)",
      });
      return;
    }
    const jobName = migrationJobName(name);
    const job = this.caches.jobs.get(namespace, jobName) as V1Job | undefined;
    if (job && !job.metadata?.ownerReferences?.some((o) => o.uid === migration.metadata.uid)) {
      // A Job left by a deleted migration of the same name, still being garbage collected.
      throw new Error(`Job ${namespace}/${jobName} belongs to an earlier migration; waiting for it to go`);
    }
    if (!job) await this.startWorker(migration);
    const failed = failedCondition(job);
    if (failed) {
      await this.applyStatus(migration, "Failed", {
        type: "Ready",
        status: "False",
        reason: "JobFailed",
        message: `Job ${jobName} failed for good (${failed.reason ?? "Failed"}: ${failed.message ?? "no message"}); the store is as it was before cutover. See kubectl logs job/${jobName} -n ${namespace}`,
      });
    } else if (phase === undefined || (phase === "Pending" && migration.status?.jobName !== jobName)) {
      await this.applyStatus(migration, "Pending", {
        type: "Ready",
        status: "Unknown",
        reason: "JobCreated",
        message: `Job ${jobName} runs switchboard migrate; it plans the migration once its pod starts`,
      });
    } else if (phase === "CuttingOver" && !migration.status?.queryRoute) {
      return this.confirmQueryRoute(migration);
    }
    return undefined;
  }

  /**
   * CuttingOver: the snapshot controller publishes spec.route serving the target (servesTarget);
   * once the published config has it and every ready gateway pod reports serving that version,
   * status.queryRoute tells the worker to cut the store over. Until then nothing is written and
   * the migration is looked at again shortly.
   */
  private async confirmQueryRoute(migration: EmbeddingMigration): Promise<number | undefined> {
    const config = this.published();
    if (!config || !publishedServesTarget(config, migration)) return QUERY_ROUTE_RECHECK_MS;
    let gateways: number | undefined;
    if (this.gatewayVersions) {
      const seen = await this.gatewayVersions();
      const all =
        seen !== undefined &&
        seen.configVersions.length === seen.endpoints &&
        seen.configVersions.every((version) => version === config.version);
      if (!all) return QUERY_ROUTE_RECHECK_MS;
      gateways = seen.endpoints;
    }
    const queryRoute = {
      switchedAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      configVersion: config.version,
      ...(gateways !== undefined ? { gateways } : {}),
    };
    await this.apply(migration, { queryRoute }, QUERY_ROUTE_MANAGER, false);
    void this.events.record(
      this.ref(migration),
      "Normal",
      "QueryRouteSwitched",
      `${migration.spec.route} serves the target on ${gateways === undefined ? "the published config" : `all ${gateways} gateways`} (config ${config.version}); the store cuts over next`,
    );
    return undefined;
  }

  /** Forgets a deleted migration. */
  forget(uid: string | undefined): void {
    if (uid) this.phases.delete(uid);
  }

  private async startWorker(migration: EmbeddingMigration): Promise<void> {
    const namespace = migration.metadata.namespace!;
    const { serviceAccount, role, roleBinding } = workerRbac(migration);
    await createOnce(() =>
      this.apis.core.createNamespacedServiceAccount({ namespace, body: serviceAccount }),
    );
    await createOnce(() => this.apis.rbac.createNamespacedRole({ namespace, body: role }));
    await createOnce(() => this.apis.rbac.createNamespacedRoleBinding({ namespace, body: roleBinding }));
    const job = migrationJob(
      migration,
      migration.spec.target.route ?? migrationModelName(namespace, migration.metadata.name),
      this.settings!,
      this.targetInputPrice(migration),
    );
    await createOnce(() => this.apis.batch.createNamespacedJob({ namespace, body: job }));
    void this.events.record(
      this.ref(migration),
      "Normal",
      "JobCreated",
      `created Job ${job.metadata!.name} to run switchboard migrate`,
    );
  }

  /** The target model's input price per 1M tokens from the published config, for the plan's cost. */
  private targetInputPrice(migration: EmbeddingMigration): number | undefined {
    const config = this.published();
    const namespace = migration.metadata.namespace!;
    const { target } = migration.spec;
    let providerId = `${namespace}/${target.provider}`;
    let model = target.model;
    if (target.route !== undefined) {
      const route = config?.routes.find(
        (r) => r.namespace === namespace && (r.model === target.route || r.aliases.includes(target.route!)),
      );
      providerId = route?.targets[0]?.providerId ?? "";
      model = route?.targets[0]?.model;
    }
    const provider = config?.providers.find((p) => p.id === providerId);
    return provider?.models.find((m) => m.name === model)?.pricing?.inputPer1M;
  }

  /**
   * Server-side apply of the fields the operator owns; the worker owns the rest under its own
   * field manager. The resourceVersion makes it a no-op conflict if the worker wrote meanwhile.
   */
  private async applyStatus(
    migration: EmbeddingMigration,
    phase: "Pending" | "Failed",
    ready: DesiredCondition,
  ): Promise<void> {
    const current = migration.status;
    const same = current?.conditions?.find((c) => c.type === "Ready");
    if (current?.phase === phase && same?.reason === ready.reason && same.message === ready.message) return;
    const generation = migration.metadata.generation;
    const status: EmbeddingMigrationStatus = {
      phase,
      jobName: migrationJobName(migration.metadata.name),
      observedGeneration: generation,
      conditions: mergeConditions(current?.conditions, [ready], generation),
      ...(phase === "Failed" ? { completedAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z") } : {}),
    };
    await this.apply(migration, status, FIELD_MANAGER, true);
  }

  /**
   * Server-side apply of `status` under `manager`; with `guarded`, the resourceVersion makes it a
   * conflict (skipped) when the object moved on meanwhile.
   */
  private async apply(
    migration: EmbeddingMigration,
    status: EmbeddingMigrationStatus,
    manager: string,
    guarded: boolean,
  ): Promise<void> {
    try {
      await this.apis.custom.patchNamespacedCustomObjectStatus(
        {
          group: API_GROUP,
          version: API_VERSION,
          namespace: migration.metadata.namespace!,
          plural: "embeddingmigrations",
          name: migration.metadata.name,
          body: {
            apiVersion: migration.apiVersion,
            kind: "EmbeddingMigration",
            metadata: {
              name: migration.metadata.name,
              namespace: migration.metadata.namespace,
              ...(guarded ? { resourceVersion: migration.metadata.resourceVersion } : {}),
            },
            status,
          },
          fieldManager: manager,
          force: true,
        },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      );
    } catch (err) {
      // 409: the object moved on (the watch brings the news and a new reconcile); 404: it is gone.
      if (!isApiError(err, 409) && !isApiError(err, 404)) throw err;
    }
  }

  /** One Event per phase change seen (the first sight of an object only sets the baseline). */
  private reportPhase(migration: EmbeddingMigration): void {
    const uid = migration.metadata.uid ?? "";
    const phase = migration.status?.phase;
    const seen = this.phases.has(uid);
    const before = this.phases.get(uid);
    this.phases.set(uid, phase);
    if (!phase || !seen || before === phase) return;
    const ready = migration.status?.conditions?.find((c) => c.type === "Ready");
    const progress = migration.status?.progress;
    const detail = [
      progress ? `${progress.done}/${progress.total} rows, ${progress.failed} failed` : undefined,
      ready?.message,
    ]
      .filter(Boolean)
      .join("; ");
    void this.events.record(
      this.ref(migration),
      phase === "Failed" ? "Warning" : "Normal",
      phase,
      `${before ?? "new"} → ${phase}${detail ? `: ${detail}` : ""}`,
    );
  }

  private ref(migration: EmbeddingMigration): ObjectReference {
    return {
      apiVersion: migration.apiVersion,
      kind: "EmbeddingMigration",
      namespace: migration.metadata.namespace!,
      name: migration.metadata.name,
      uid: migration.metadata.uid,
    };
  }
}
