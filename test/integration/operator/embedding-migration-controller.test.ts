/**
 * The EmbeddingMigration controller on a real API server (no kubelet, no controller-manager): a
 * migration applied with kubectl gets its worker's ServiceAccount, Role and Job, all owned by it,
 * phase Pending with conditions at its generation; the worker identity may read only its own
 * migration and patch its status; the worker's route carries spec.route's residency policy; a Job
 * that fails for good (its status written here as the Job controller would) turns the migration
 * Failed with an Event; a cut-over migration switches spec.route to the target model.
 */
import { BatchV1Api, PatchStrategy, setHeaderOptions, type V1Job } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { readSnapshot } from "../../../src/shared/snapshot-format.js";
import type { GatewayConfig } from "../../../src/shared/schemas/gateway-config.js";
import {
  applyObject,
  condition,
  eventsAbout,
  getCustom,
  kubectl,
  migrationManifest,
  prepareCluster,
  providerManifest,
  RELEASE_NAMESPACE,
  routeManifest,
  secretManifest,
  startTestOperator,
  uniqueName,
  waitFor,
  type KubeClients,
  type TestOperator,
} from "./operator-kit.js";

const namespace = uniqueName("migrations");
const snapshot = { namespace: RELEASE_NAMESPACE, name: uniqueName("gateway-config") };
const STORE_URL = "postgres://kb:s3cret-store-password@db.internal:5432/kb";
const IMAGE = "switchboard:test";
const GATEWAY_URL = "http://switchboard-gateway.switchboard-system.svc:80";
const routeModel = `embed-${namespace}`;
let admin: KubeClients;
let batch: BatchV1Api;
let operator: TestOperator;

function migration(name: string, target: Record<string, unknown>) {
  return migrationManifest(namespace, name, {
    source: { provider: "p", model: "small", dimensions: 1536 },
    target,
    route: routeModel,
    store: {
      postgres: {
        connectionSecretRef: { name: "kb-store", key: "url" },
        table: "documents",
        idColumn: "id",
        textColumn: "body",
        targetColumn: "embedding_next",
        readColumn: "embedding",
        retiredColumn: "embedding_old",
      },
    },
  });
}

const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

const readMigration = (name: string) => getCustom(admin, "embeddingmigrations", namespace, name);

async function published(): Promise<GatewayConfig> {
  const head = await admin.core.readNamespacedSecret(snapshot);
  return readSnapshot(head, snapshot.namespace, admin.core);
}

const readJob = (name: string) =>
  batch.readNamespacedJob({ namespace, name }).catch(() => undefined) as Promise<V1Job | undefined>;

const canI = async (user: string, ...args: string[]) =>
  (
    await kubectl(admin, ["auth", "can-i", ...args, "-n", namespace, `--as=${user}`]).catch(
      (e: Error) => e.message,
    )
  )
    .trim()
    .startsWith("yes");

beforeAll(async () => {
  const cluster = await prepareCluster([namespace]);
  admin = cluster.admin;
  batch = admin.kc.makeApiClient(BatchV1Api);
  await applyObject(admin, secretManifest(namespace, "kb-store", { url: STORE_URL }));
  await applyObject(
    admin,
    providerManifest(namespace, "p", {
      type: "openai-compatible",
      endpoint: "http://127.0.0.1:9/v1",
      credentials: { none: {} },
      healthCheck: { probe: "none" },
      dataResidency: { boundary: "provider-cloud", region: "eu-central-1" },
      models: [
        { name: "small", providerModel: "text-embedding-3-small", kind: "embedding", dimensions: 1536 },
        {
          name: "titan",
          providerModel: "amazon.titan-embed-text-v2:0",
          kind: "embedding",
          dimensions: 1024,
          pricing: { inputPer1M: 0.02 },
        },
      ],
    }),
  );
  await applyObject(
    admin,
    routeManifest(namespace, "embed", {
      model: routeModel,
      targets: [{ provider: "p", model: "small" }],
      policy: { dataResidency: { allowedRegions: ["eu-central-1"] } },
    }),
  );
  operator = await startTestOperator(cluster.operatorKubeconfig, {
    namespace,
    snapshot,
    lease: { name: uniqueName("lease"), leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
    migrationJobs: { image: IMAGE, gatewayUrl: GATEWAY_URL },
  });
}, 600_000);

afterAll(async () => {
  await operator?.close();
  await admin?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe("EmbeddingMigration controller", () => {
  it("creates the worker Job, owned by the migration, and sets Pending with conditions at its generation", async () => {
    await kubectl(
      admin,
      ["apply", "-f", "-"],
      stringify(migration("to-titan", { provider: "p", model: "titan", dimensions: 1024 })),
    );
    const pending = await waitFor(async () => {
      const current = await readMigration("to-titan");
      return current?.status?.phase === "Pending" ? current : undefined;
    });
    expect(pending.status?.jobName).toBe("to-titan-migrate");
    expect(pending.status?.observedGeneration).toBe(1);
    expect(condition(pending, "Ready")).toMatchObject({
      status: "Unknown",
      reason: "JobCreated",
      observedGeneration: 1,
    });

    const job = await waitFor(() => readJob("to-titan-migrate"));
    expect(job.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: "EmbeddingMigration",
        name: "to-titan",
        uid: pending.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      }),
    ]);
    const pod = job.spec!.template.spec!;
    expect(pod.restartPolicy).toBe("Never");
    expect(pod.serviceAccountName).toBe("to-titan-migrate");
    expect(job.spec!.backoffLimit).toBe(6);
    expect(job.spec!.podFailurePolicy!.rules[0]).toMatchObject({
      action: "FailJob",
      onExitCodes: { operator: "In", values: [2] },
    });
    const container = pod.containers[0]!;
    expect(container.image).toBe(IMAGE);
    expect([...container.command!, ...container.args!]).toEqual([
      "node",
      "/app/dist/cli.js",
      "migrate",
      "--migration",
      `${namespace}/to-titan`,
      "--gateway-url",
      GATEWAY_URL,
      "--embedding-model",
      `embeddingmigration:${namespace}/to-titan`,
      "--input-price-per-1m",
      "0.02",
    ]);
    expect(container.env).toEqual([
      { name: "SWITCHBOARD_STORE_URL", valueFrom: { secretKeyRef: { name: "kb-store", key: "url" } } },
    ]);
    // The credential is referenced, never copied.
    expect(JSON.stringify(job)).not.toContain("s3cret-store-password");
    expect(JSON.stringify(await readMigration("to-titan"))).not.toContain("s3cret-store-password");

    expect(await eventsAbout(admin, namespace, "to-titan")).toContain("Normal/JobCreated");
  });

  it("gives the worker an identity that reads only its own migration and patches only its status", async () => {
    const worker = `system:serviceaccount:${namespace}:to-titan-migrate`;
    expect(await canI(worker, "get", "embeddingmigrations.llm.switchboard.dev/to-titan")).toBe(true);
    expect(await canI(worker, "watch", "embeddingmigrations.llm.switchboard.dev/to-titan")).toBe(true);
    expect(
      await canI(worker, "patch", "embeddingmigrations.llm.switchboard.dev/to-titan", "--subresource=status"),
    ).toBe(true);
    expect(await canI(worker, "patch", "embeddingmigrations.llm.switchboard.dev/to-titan")).toBe(false);
    expect(await canI(worker, "get", "embeddingmigrations.llm.switchboard.dev/other")).toBe(false);
    expect(await canI(worker, "list", "embeddingmigrations.llm.switchboard.dev")).toBe(false);
    expect(await canI(worker, "get", "secrets/kb-store")).toBe(false);
  });

  it("publishes a route for the worker that carries spec.route's residency policy and consumers", async () => {
    const config = await waitFor(async () => {
      const current = await published();
      return current.routes.some((r) => r.model === `embeddingmigration:${namespace}/to-titan`) && current;
    });
    const workerRoute = config.routes.find((r) => r.model === `embeddingmigration:${namespace}/to-titan`)!;
    const queryRoute = config.routes.find((r) => r.model === routeModel)!;
    expect(workerRoute.targets).toEqual([
      { providerId: `${namespace}/p`, model: "titan", weight: 1, priority: 0 },
    ]);
    expect(workerRoute.policy).toEqual({ dataResidency: { allowedRegions: ["eu-central-1"] } });
    expect(workerRoute.consumers).toEqual(queryRoute.consumers);
    // Until cutover, applications' queries still embed with the source model.
    expect(queryRoute.targets[0]!.model).toBe("small");
  });

  it("sets Failed with a Warning Event when the Job fails for good", async () => {
    const now = new Date();
    await batch.patchNamespacedJobStatus(
      {
        namespace,
        name: "to-titan-migrate",
        body: {
          status: {
            startTime: now,
            conditions: [
              {
                type: "FailureTarget",
                status: "True",
                reason: "PodFailurePolicy",
                message:
                  "Container migrate for pod x failed with exit code 2 matching FailJob rule at index 0",
                lastTransitionTime: now,
              },
              {
                type: "Failed",
                status: "True",
                reason: "PodFailurePolicy",
                message:
                  "Container migrate for pod x failed with exit code 2 matching FailJob rule at index 0",
                lastTransitionTime: now,
              },
            ],
          },
        },
      },
      MERGE_PATCH,
    );
    const failed = await waitFor(async () => {
      const current = await readMigration("to-titan");
      return current?.status?.phase === "Failed" ? current : undefined;
    });
    expect(condition(failed, "Ready")).toMatchObject({
      status: "False",
      reason: "JobFailed",
      observedGeneration: 1,
    });
    expect(condition(failed, "Ready")!.message).toContain("PodFailurePolicy");
    expect(condition(failed, "Ready")!.message).toContain(
      `kubectl logs job/to-titan-migrate -n ${namespace}`,
    );
    await waitFor(async () => (await eventsAbout(admin, namespace, "to-titan")).includes("Warning/Failed"));
    // A failed migration's worker route goes away.
    await waitFor(
      async () => !(await published()).routes.some((r) => r.model.startsWith("embeddingmigration:")),
    );
  });

  it("switches spec.route to the target once the migration has cut over, and the guard keeps it there", async () => {
    await kubectl(
      admin,
      ["apply", "-f", "-"],
      stringify(migration("cut", { provider: "p", model: "titan", dimensions: 1024 })),
    );
    await waitFor(async () => (await readMigration("cut"))?.status?.phase === "Pending");
    // What the worker writes when the store has cut over.
    await admin.custom.patchNamespacedCustomObjectStatus(
      {
        group: "llm.switchboard.dev",
        version: "v1alpha1",
        namespace,
        plural: "embeddingmigrations",
        name: "cut",
        body: {
          status: { phase: "Succeeded", cutoverAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z") },
        },
      },
      MERGE_PATCH,
    );
    await waitFor(
      async () =>
        (await published()).routes.find((r) => r.model === routeModel)?.targets[0]?.model === "titan",
    );

    await kubectl(admin, ["delete", "embeddingmigration", "cut", "-n", namespace]);
    const held = await waitFor(async () => {
      const route = await getCustom(admin, "llmroutes", namespace, "embed");
      return condition(route, "Ready")?.reason === "VectorSpaceChangeRefused" ? route : undefined;
    });
    expect(condition(held, "Ready")!.message).toContain(
      "serves amazon.titan-embed-text-v2:0 (1024 dimensions)",
    );
    expect((await published()).routes.find((r) => r.model === routeModel)!.targets[0]!.model).toBe("titan");
  });
});
