/**
 * EmbeddingMigration end to end on the test control plane: `switchboard operator` and `switchboard
 * gateway` as processes, an OpenAI fake upstream, PGlite (real pgvector) as the store. `kubectl
 * apply` a migration → the operator creates its Job → with no kubelet here, the harness does what
 * one would: reads the Job, resolves its secretKeyRef env from the Secret, gives the pod its
 * ServiceAccount's token (as a kubeconfig) and runs the pod's command as a local process → `kubectl
 * get embeddingmigrations` shows the progress to Succeeded → a query embedding through the route
 * comes from the target model. Set SWITCHBOARD_MIGRATION_DOC_OUT to keep the kubectl output seen.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BatchV1Api, type V1Job } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { EmbeddingMigrationStatus } from "../../../src/shared/schemas/embedding-migration.js";
import { embeddingFor, startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { runCli, waitForHttp, type CliProcess } from "../../support/cli-process.js";
import { freePort } from "../../support/free-port.js";
import { startPgliteServer, type TestPglite } from "../../support/pglite-server.js";
import { columnsOf, query, rowText, seedTable } from "../../integration/migration/migration-kit.js";
import {
  applyGatewayService,
  applyObject,
  endpointAddress,
  getCustom,
  kubectl,
  migrationManifest,
  prepareCluster,
  providerManifest,
  RELEASE_NAMESPACE,
  routeManifest,
  runGatewayCli,
  runOperatorCli,
  secretManifest,
  serviceAccountKubeconfig,
  uniqueName,
  waitFor,
  waitForCondition,
  type KubeClients,
} from "../../integration/operator/operator-kit.js";

const API_KEY = "sk-e2e-migration-0123456789abcdef";
const ROWS = 600;
const TARGET_DIMENSIONS = 768;
const namespace = uniqueName("e2e-migration");
const snapshotName = uniqueName("gateway-config");
const routeModel = "kb-embed";
const serviceName = uniqueName("gateway");

let admin: KubeClients;
let tempDir: string;
let upstream: OpenAiFake;
let store: TestPglite;
let gatewayUrl: string;
/** The second gateway replica, started only once the test has seen the cutover wait for it. */
let secondGateway: { port: number; adminPort: number; kubeconfig: string };
const processes: CliProcess[] = [];
const seen: string[] = [];

async function getMigrations(): Promise<string> {
  const out = await kubectl(admin, ["get", "embeddingmigrations", "-n", namespace]);
  if (seen.at(-1) !== out) seen.push(out);
  return out;
}

/** A query embedding through the route: status, vector length, and the upstream model that made it. */
async function embedQuery(
  text: string,
  url = gatewayUrl,
): Promise<{ status: number; upstreamModel?: string; length?: number }> {
  const res = await fetch(`${url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: routeModel, input: text }),
  });
  const body = (await res.json()) as { data?: Array<{ embedding: number[] }> };
  const upstreamCall = upstream.requests.findLast(
    (r) => r.url.endsWith("/embeddings") && [(r.json as { input?: unknown }).input].flat()[0] === text,
  );
  return {
    status: res.status,
    upstreamModel: (upstreamCall?.json as { model?: string } | undefined)?.model,
    length: body.data?.[0]?.embedding.length,
  };
}

function startGateway(port: number, adminHost: string, adminPort: number, kubeconfig: string): CliProcess {
  return runGatewayCli({
    snapshot: `${RELEASE_NAMESPACE}/${snapshotName}`,
    kubeconfig,
    port,
    adminPort,
    adminHost,
  });
}

/** What a kubelet does with the Job's pod: env from Secrets, the ServiceAccount's token, the command. */
async function runJobPod(job: V1Job): Promise<CliProcess> {
  const pod = job.spec!.template.spec!;
  const container = pod.containers[0]!;
  expect(container.command).toEqual(["node", "/app/dist/cli.js"]);
  const env: NodeJS.ProcessEnv = {};
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) {
      const secret = await admin.core.readNamespacedSecret({ namespace, name: ref.name! });
      env[variable.name] = Buffer.from(secret.data?.[ref.key] ?? "", "base64").toString("utf8");
    } else {
      env[variable.name] = variable.value ?? "";
    }
  }
  const kubeconfig = path.join(tempDir, `${pod.serviceAccountName}.kubeconfig`);
  await serviceAccountKubeconfig(admin, namespace, pod.serviceAccountName!, kubeconfig);
  const worker = runCli(container.args!, { ...env, KUBECONFIG: kubeconfig });
  processes.push(worker);
  return worker;
}

beforeAll(async () => {
  ({ admin } = await prepareCluster([namespace]));
  tempDir = await mkdtemp(path.join(tmpdir(), "switchboard-e2e-migration-"));
  upstream = await startOpenAiFake({ apiKey: API_KEY });
  store = await startPgliteServer();
  await seedTable(store.url, ROWS);

  await applyObject(admin, secretManifest(namespace, "upstream-key", { apiKey: API_KEY }));
  await applyObject(admin, secretManifest(namespace, "kb-store", { url: store.url }));
  await applyObject(
    admin,
    providerManifest(namespace, "openai", {
      type: "openai-compatible",
      endpoint: upstream.baseUrl,
      credentials: { secretRef: { name: "upstream-key", key: "apiKey" } },
      healthCheck: { probe: "none" },
      dataResidency: { boundary: "provider-cloud", region: "eu-west-1" },
      models: [
        { name: "small", providerModel: "text-embedding-3-small", kind: "embedding", dimensions: 1536 },
        {
          name: "nomic",
          providerModel: "nomic-embed-text",
          kind: "embedding",
          dimensions: TARGET_DIMENSIONS,
          pricing: { inputPer1M: 0.02 },
        },
      ],
    }),
  );
  await applyObject(
    admin,
    routeManifest(namespace, "kb-embed", {
      model: routeModel,
      targets: [{ provider: "openai", model: "small" }],
      policy: { dataResidency: { allowedRegions: ["eu-west-1"] } },
    }),
  );

  // Two gateway replicas as local processes behind a selector-less Service, so the operator reads
  // both /admin/state before it lets the store cut over.
  const [port, adminPort] = [await freePort(), await freePort()];
  const address = endpointAddress();
  const adminHost = address ? "0.0.0.0" : "127.0.0.1";
  gatewayUrl = `http://127.0.0.1:${port}`;
  const gatewayKubeconfig = path.join(tempDir, "gateway.kubeconfig");
  await serviceAccountKubeconfig(admin, RELEASE_NAMESPACE, "switchboard-gateway", gatewayKubeconfig);
  secondGateway = { port: await freePort(), adminPort: await freePort(), kubeconfig: gatewayKubeconfig };
  await applyGatewayService(admin, serviceName, [adminPort, secondGateway.adminPort], address);
  const operatorKubeconfig = (await prepareCluster([])).operatorKubeconfig;
  processes.push(
    runOperatorCli({
      kubeconfig: operatorKubeconfig,
      namespaces: [namespace],
      snapshot: `${RELEASE_NAMESPACE}/${snapshotName}`,
      leaderElectionId: `${snapshotName}-leader`,
      metricsPort: await freePort(),
      extra: [
        "--migration-image",
        "switchboard:e2e",
        "--migration-gateway-url",
        gatewayUrl,
        "--gateway-service",
        `${RELEASE_NAMESPACE}/${serviceName}`,
        "--state-interval",
        "500ms",
      ],
    }),
  );
  processes.push(startGateway(port, adminHost, adminPort, gatewayKubeconfig));
  await waitForHttp(`${gatewayUrl}/readyz`, 120_000);
  await waitForCondition(() => getCustom(admin, "llmroutes", namespace, "kb-embed"), "Ready", "True", 30_000);
}, 600_000);

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) await p.stop();
  await upstream?.close();
  await store?.stop();
  await admin?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  if (process.env.SWITCHBOARD_MIGRATION_DOC_OUT)
    await writeFile(process.env.SWITCHBOARD_MIGRATION_DOC_OUT, seen.join("\n"));
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

describe("EmbeddingMigration through kubectl, the operator, its Job and the gateway", () => {
  it("re-embeds the store and cuts the query route over to the target model", async () => {
    expect(await embedQuery("what changed before the migration?")).toEqual({
      status: 200,
      upstreamModel: "text-embedding-3-small",
      length: 1536,
    });

    const manifest = migrationManifest(namespace, "kb-to-nomic", {
      source: { provider: "openai", model: "small", dimensions: 1536 },
      target: { provider: "openai", model: "nomic", dimensions: TARGET_DIMENSIONS },
      route: routeModel,
      store: {
        postgres: {
          connectionSecretRef: { name: "kb-store", key: "url" },
          table: "kb.chunks",
          idColumn: "id",
          textColumn: "body",
          targetColumn: "embedding_next",
          readColumn: "embedding",
          retiredColumn: "embedding_previous",
        },
      },
      batchSize: 20,
      requestsPerMinute: 600,
    });
    await kubectl(admin, ["apply", "-f", "-"], stringify(manifest));

    const batch = admin.kc.makeApiClient(BatchV1Api);
    const job = await waitFor(() =>
      batch.readNamespacedJob({ namespace, name: "kb-to-nomic-migrate" }).catch(() => undefined),
    );
    expect(await getMigrations()).toMatch(/kb-to-nomic\s+Pending/);
    const worker = await runJobPod(job);

    // Progress shows while the worker runs (about 30 requests at 10 per second).
    await waitFor(async () => /kb-to-nomic\s+Running\s+\d+%/.test(await getMigrations()), 60_000, 500);

    // Every row has its new vector: the worker asks for the query route (CuttingOver). The first
    // gateway serves the target within moments; the second replica has not loaded that config
    // (it is not even up), so the store must not cut over: nothing tells the worker the route switched.
    const migrationNow = async () =>
      ((await getCustom(admin, "embeddingmigrations", namespace, "kb-to-nomic")) ?? {}) as {
        status?: EmbeddingMigrationStatus;
      };
    await waitFor(async () => /kb-to-nomic\s+CuttingOver/.test(await getMigrations()), 60_000, 200);
    let probes = 0;
    await waitFor(
      async () => (await embedQuery(`probe ${probes++}`)).upstreamModel === "nomic-embed-text",
      20_000,
      200,
    );
    for (let check = 0; check < 6; check++) {
      const migration = await migrationNow();
      expect(migration.status).toMatchObject({ phase: "CuttingOver" });
      // The worker records cutoverAt right after the store's commit (PGlite serves one client, the worker).
      expect(migration.status?.queryRoute).toBeUndefined();
      expect(migration.status?.cutoverAt).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    // The second replica starts, loads the config, and reports it: then, and only then, the store cuts over.
    processes.push(
      startGateway(
        secondGateway.port,
        endpointAddress() ? "0.0.0.0" : "127.0.0.1",
        secondGateway.adminPort,
        secondGateway.kubeconfig,
      ),
    );
    const exit = await new Promise<number | null>((resolve) => {
      if (worker.child.exitCode !== null) resolve(worker.child.exitCode);
      worker.child.once("exit", (code) => resolve(code));
    });
    expect(exit, worker.output()).toBe(0);
    expect(await getMigrations()).toMatch(/kb-to-nomic\s+Succeeded\s+100%/);
    const { status } = await migrationNow();
    expect(status?.queryRoute).toMatchObject({ gateways: 2, configVersion: expect.any(String) });
    expect(Date.parse(status!.queryRoute!.switchedAt)).toBeLessThanOrEqual(Date.parse(status!.cutoverAt!));
    expect(await columnsOf(store.url)).not.toContain("embedding_next");
    expect(
      (await embedQuery("asked of the second replica", `http://127.0.0.1:${secondGateway.port}`))
        .upstreamModel,
    ).toBe("nomic-embed-text");

    // Every row was re-embedded from its own text into the column applications read.
    const [counts] = await query<{ rows: string; migrated: string }>(
      store.url,
      "SELECT count(*) AS rows, count(*) FILTER (WHERE vector_dims(embedding) = $1) AS migrated FROM kb.chunks",
      [TARGET_DIMENSIONS],
    );
    expect(counts).toEqual({ rows: String(ROWS), migrated: String(ROWS) });
    for (const id of [1, ROWS]) {
      const [row] = await query<{ embedding: string }>(
        store.url,
        "SELECT embedding::text AS embedding FROM kb.chunks WHERE id = $1",
        [id],
      );
      const stored = JSON.parse(row!.embedding) as number[];
      const expected = embeddingFor(rowText(id), TARGET_DIMENSIONS);
      expect(stored.every((v, i) => Math.abs(v - expected[i]!) < 1e-6)).toBe(true);
    }

    // Queries through the same route now embed with the target model, in the same space.
    await waitFor(
      async () => (await embedQuery(`probe ${probes++}`)).upstreamModel === "nomic-embed-text",
      20_000,
      200,
    );
    expect(await embedQuery("what changed after the migration?")).toEqual({
      status: 200,
      upstreamModel: "nomic-embed-text",
      length: TARGET_DIMENSIONS,
    });
    await getMigrations();
    seen.push(await kubectl(admin, ["get", "llmroutes", "-n", namespace]));
  }, 300_000);
});
