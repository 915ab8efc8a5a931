/**
 * An EmbeddingMigration on a real cluster (npm run test:cluster), as a user runs it: PostgreSQL
 * with pgvector in a pod (PGlite, scripts/cluster/images.sh store), the demo upstream in a pod
 * behind two providers, a query route on the source, then `kubectl apply` of a migration. The
 * operator's Job runs `switchboard migrate` from the chart's image on the node; `kubectl get -w`
 * shows Pending → Running with progress → Succeeded; the rows hold the target model's vectors;
 * the route's next query embedding comes from the target; and `kubectl delete` of the migration
 * takes its Job and pods with it through the cluster's garbage collector.
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import {
  apply,
  clusterIp,
  getJson,
  IMAGE,
  imageDeployment,
  installRelease,
  kubectl,
  nodeInPod,
  podOf,
  RELEASE,
  RELEASE_NAMESPACE,
  service,
  spawnKubectl,
  STORE_IMAGE,
  waitFor,
  type Pod,
} from "./cluster-kit.js";

const ns = `e2e-migration-${Date.now().toString(36)}`;
const GROUP = "llm.switchboard.dev";
const ROWS = 400;
/** The demo upstream embeds into 256 dimensions whatever the model. */
const DIMENSIONS = 256;
const MIGRATION = "kb-to-titan";
const JOB = `${MIGRATION}-migrate`;
const STORE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
let storePod: string;
let upstreamUrl: string;
let gatewayUrl: string;
let watch: ChildProcess | undefined;

/** Runs `body` in the store pod with a connected `pg` client named `db`; prints what it returns. */
async function inStore<T>(body: string): Promise<T> {
  const out = await nodeInPod(
    ns,
    storePod,
    `import pg from "pg";
     const db = new pg.Client({ connectionString: ${JSON.stringify(STORE_URL)} });
     await db.connect();
     try {
       const result = await (async () => { ${body} })();
       console.log(JSON.stringify(result ?? null));
     } finally {
       await db.end();
     }`,
  );
  return JSON.parse(out) as T;
}

/** A query embedding through the route, from a pod: status, length and the provider that served it. */
async function embedQuery(
  text: string,
): Promise<{ status: number; provider: string | null; length?: number }> {
  return inStore(
    `const res = await fetch(${JSON.stringify(`${gatewayUrl}/v1/embeddings`)}, {
       method: "POST",
       headers: { "content-type": "application/json" },
       body: JSON.stringify({ model: "kb-embed", input: ${JSON.stringify(text)} }),
     });
     const body = await res.json();
     return { status: res.status, provider: res.headers.get("x-switchboard-provider"), length: body.data?.[0]?.embedding.length };`,
  );
}

function provider(name: string, model: string, extra: Record<string, unknown> = {}): object {
  return {
    apiVersion: `${GROUP}/v1alpha1`,
    kind: "LLMProvider",
    metadata: { name, namespace: ns },
    spec: {
      type: "openai-compatible",
      endpoint: `${upstreamUrl}/v1`,
      credentials: { none: {} },
      healthCheck: { probe: "none" },
      models: [
        { name: model, providerModel: "demo-embed", kind: "embedding", dimensions: DIMENSIONS, ...extra },
      ],
    },
  };
}

async function jobPods(): Promise<Pod[]> {
  return (await getJson<{ items: Pod[] }>(["get", "pods", "-n", ns, "-l", `job-name=${JOB}`])).items;
}

beforeAll(async () => {
  await kubectl(["create", "namespace", ns]);
  await installRelease();
  // The node runs no cluster DNS: the workers reach the gateway Service by its ClusterIP.
  gatewayUrl = `http://${await clusterIp(RELEASE_NAMESPACE, `${RELEASE}-gateway`)}`;
  await installRelease(`operator.migrationGatewayUrl=${gatewayUrl}:80`);
  await apply(
    imageDeployment(ns, "store", { image: STORE_IMAGE, port: 5432, writableTmp: true }),
    service(ns, "store", 5432),
    imageDeployment(ns, "upstream", {
      args: ["demo-upstream", "--host", "0.0.0.0", "--port", "8081"],
      port: 8081,
    }),
    service(ns, "upstream", 8081),
  );
  upstreamUrl = `http://${await clusterIp(ns, "upstream")}:8081`;
  storePod = await podOf(ns, "store");
  await podOf(ns, "upstream");

  // The knowledge base: rows whose vectors came from the source model (placeholders here).
  await inStore(
    `await db.query("CREATE SCHEMA kb");
     await db.query("CREATE TABLE kb.chunks (id bigint PRIMARY KEY, body text, embedding real[])");
     await db.query("INSERT INTO kb.chunks SELECT i, 'chunk ' || i || ': notes on topic ' || (i % 97), ARRAY[i, 0, 0]::real[] FROM generate_series(1, $1::int) AS i", [${ROWS}]);`,
  );
  const storeIp = await clusterIp(ns, "store");
  await apply(
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "kb-store", namespace: ns },
      stringData: { url: `postgres://postgres@${storeIp}:5432/postgres` },
    },
    provider("openai", "small"),
    provider("titan", "titan-embed", { pricing: { inputPer1M: 0.02 } }),
    {
      apiVersion: `${GROUP}/v1alpha1`,
      kind: "LLMRoute",
      metadata: { name: "kb-embed", namespace: ns },
      spec: { model: "kb-embed", targets: [{ provider: "openai", model: "small" }] },
    },
  );
}, 600_000);

afterAll(async () => {
  watch?.kill();
  await kubectl(["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
});

describe.sequential("an EmbeddingMigration on a real cluster", () => {
  it("the operator's Job re-embeds the store and the route's queries move to the target model", async () => {
    const before = await waitFor("a query embedding through kb-embed", async () => {
      const r = await embedQuery("what changed before the migration?");
      return r.status === 200 ? r : undefined;
    });
    expect(before).toEqual({ status: 200, provider: `${ns}/openai`, length: DIMENSIONS });

    // What a user watching the migration sees, every change of it.
    watch = await spawnKubectl([
      "get",
      "embeddingmigrations",
      "-n",
      ns,
      "-w",
      "-o",
      "custom-columns=PHASE:.status.phase,PROGRESS:.status.progress.percent",
      "--no-headers",
    ]);
    let watched = "";
    watch.stdout!.setEncoding("utf8").on("data", (d: string) => (watched += d));
    await kubectl(
      ["apply", "-f", "-"],
      stringify({
        apiVersion: `${GROUP}/v1alpha1`,
        kind: "EmbeddingMigration",
        metadata: { name: MIGRATION, namespace: ns },
        spec: {
          source: { provider: "openai", model: "small", dimensions: DIMENSIONS },
          target: { provider: "titan", model: "titan-embed", dimensions: DIMENSIONS },
          route: "kb-embed",
          store: {
            postgres: {
              connectionSecretRef: { name: "kb-store", key: "url" },
              table: "kb.chunks",
              idColumn: "id",
              textColumn: "body",
              readColumn: "embedding",
              targetColumn: "embedding_titan",
              retiredColumn: "embedding_openai",
            },
          },
          // 20 requests at one a second: long enough to see progress on the way.
          batchSize: 20,
          requestsPerMinute: 60,
        },
      }),
    );

    const final = await waitFor(
      "phase Succeeded or Failed",
      async () => {
        const m = await getJson<{ status?: { phase?: string } }>([
          "get",
          "embeddingmigration",
          "-n",
          ns,
          MIGRATION,
        ]);
        return m.status?.phase === "Succeeded" || m.status?.phase === "Failed" ? m.status.phase : undefined;
      },
      240_000,
    );
    const logs = await kubectl(["logs", "-n", ns, `job/${JOB}`]).catch((e: Error) => e.message);
    expect(final, logs).toBe("Succeeded");
    await waitFor("the watch to print Succeeded", async () => /Succeeded\s+100%/.test(watched), 30_000);
    watch.kill();
    process.stdout.write(`kubectl get embeddingmigrations -w:\n${watched}`);
    const rows = watched
      .trim()
      .split("\n")
      .map((line) => line.trim().split(/\s+/) as [string, string]);
    const phases = rows.map(([phase]) => phase).filter((p, i, all) => p !== "<none>" && p !== all[i - 1]);
    expect(phases[0]).toBe("Pending");
    expect(phases.indexOf("Running")).toBeGreaterThan(0);
    expect(phases.at(-1)).toBe("Succeeded");
    // Progress while running: at least one status between the first batch and the last.
    expect(rows.some(([phase, percent]) => phase === "Running" && /^([1-9]|[1-9]\d)%$/.test(percent))).toBe(
      true,
    );
    expect(await kubectl(["get", "embeddingmigrations", "-n", ns])).toMatch(
      new RegExp(`${MIGRATION}\\s+Succeeded\\s+100%`),
    );

    // The Job's pod ran `switchboard migrate` from the chart's image on the node, and succeeded.
    // The worker reports Succeeded before it exits; the Job completes when its pod has.
    await waitFor("the Job to complete", async () => {
      const job = await getJson<{ status: { succeeded?: number } }>(["get", "job", "-n", ns, JOB]);
      return job.status.succeeded === 1;
    });
    const [pod] = (await jobPods()) as Array<
      Pod & { spec: { containers: Array<{ image: string; args: string[] }> } }
    >;
    expect(pod!.spec.containers[0]!.image).toBe(IMAGE);
    expect(pod!.spec.containers[0]!.args[0]).toBe("migrate");
    expect(pod!.status.phase).toBe("Succeeded");

    // Every row now reads the target model's vector of its own text; the old ones are kept aside.
    const stored = await inStore<{ rows: number; migrated: number; retired: number; maxDiff: number }>(
      `const [counts] = (await db.query(
         "SELECT count(*)::int AS rows, count(*) FILTER (WHERE vector_dims(embedding) = $1)::int AS migrated, count(*) FILTER (WHERE embedding_openai[1] = id)::int AS retired FROM kb.chunks",
         [${DIMENSIONS}],
       )).rows;
       let maxDiff = 0;
       for (const id of [1, 2, ${ROWS}]) {
         const [row] = (await db.query("SELECT body, embedding::text AS embedding FROM kb.chunks WHERE id = $1", [id])).rows;
         const res = await fetch(${JSON.stringify(`${upstreamUrl}/v1/embeddings`)}, {
           method: "POST",
           headers: { "content-type": "application/json" },
           body: JSON.stringify({ model: "demo-embed", input: row.body }),
         });
         const expected = (await res.json()).data[0].embedding;
         const got = JSON.parse(row.embedding);
         if (got.length !== expected.length) return { ...counts, maxDiff: Infinity };
         for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
       }
       return { ...counts, maxDiff };`,
    );
    expect(stored).toMatchObject({ rows: ROWS, migrated: ROWS, retired: ROWS });
    expect(stored.maxDiff).toBeLessThan(1e-6);

    // The route's next query embedding comes from the target model.
    let probes = 0;
    await waitFor(
      "a query embedding served by the target provider",
      async () => (await embedQuery(`probe ${probes++}`)).provider === `${ns}/titan`,
      60_000,
    );
    expect(await embedQuery("what changed after the migration?")).toEqual({
      status: 200,
      provider: `${ns}/titan`,
      length: DIMENSIONS,
    });
  });

  it("kubectl delete of the migration removes its Job and pods through the garbage collector", async () => {
    expect(await jobPods()).not.toEqual([]);
    await kubectl(["delete", "embeddingmigration", "-n", ns, MIGRATION]);
    await waitFor(
      "the Job, its pods and the worker's ServiceAccount, Role and RoleBinding to be gone",
      async () => {
        const owned = await kubectl([
          "get",
          "jobs,serviceaccounts,roles,rolebindings",
          "-n",
          ns,
          "-o",
          "name",
        ]);
        return !owned.includes(JOB) && (await jobPods()).length === 0;
      },
      120_000,
    );
    expect(await jobPods()).toEqual([]);
  });
});
