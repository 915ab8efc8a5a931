/**
 * EmbeddingMigration on real pgvector (PGlite with its vector extension, served over the
 * Postgres wire protocol): the worker creates the target column as vector(n), fills it through
 * the gateway, and the cutover leaves readers on a vector(n) column of the new model's vectors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddingFor } from "../../fakes/openai-fake.js";
import { startPgliteServer, type TestPglite } from "../../support/pglite-server.js";
import { waitFor } from "../operator/operator-kit.js";
import {
  columnsOf,
  columnType,
  createMigration,
  getMigration,
  migrationSpec,
  query,
  readyCondition,
  runWorkerInProcess,
  startMigrationWorld,
  TARGET_ROUTE,
  UPSTREAM_DIMENSIONS,
  type MigrationWorld,
} from "./migration-kit.js";

let pglite: TestPglite;
let world: MigrationWorld;

beforeAll(async () => {
  pglite = await startPgliteServer();
  world = await startMigrationWorld(`migration-pgvector-${Date.now().toString(36)}`);
}, 120_000);

afterAll(async () => {
  await world?.close();
  await pglite?.stop();
});

/** kb.chunks with old 3-dimensional pgvector vectors [id, 0, 0]. */
async function seed(rows: number) {
  await query(pglite.url, "DROP SCHEMA IF EXISTS kb CASCADE");
  await query(pglite.url, "CREATE SCHEMA kb");
  await query(pglite.url, "CREATE TABLE kb.chunks (id bigint PRIMARY KEY, body text, embedding vector(3))");
  await query(
    pglite.url,
    `INSERT INTO kb.chunks SELECT i, 'pgvector chunk ' || i, ('[' || i || ',0,0]')::vector
       FROM generate_series(1, $1::int) AS i`,
    [rows],
  );
}

describe("EmbeddingMigration on pgvector", () => {
  it("creates vector(n), fills it through the gateway and cuts over to a vector(n) column", async () => {
    await seed(1_000);
    await createMigration(world, "pgvector", migrationSpec({ batchSize: 100 }));
    const worker = runWorkerInProcess(world, "pgvector", pglite.url);
    expect(await worker.exit, worker.logs()).toBe(0);

    expect(await columnsOf(pglite.url)).toEqual(["id", "body", "embedding_previous", "embedding"]);
    expect(await columnType(pglite.url, "embedding")).toBe(`vector(${UPSTREAM_DIMENSIONS})`);
    expect(await columnType(pglite.url, "embedding_previous")).toBe("vector(3)");
    const rows = await query<{ id: string; body: string; embedding: string; previous: string }>(
      pglite.url,
      "SELECT id, body, embedding::text, embedding_previous::text AS previous FROM kb.chunks ORDER BY id",
    );
    expect(rows).toHaveLength(1_000);
    const wrong = rows.filter((row) => {
      const stored = JSON.parse(row.embedding) as number[];
      const expected = embeddingFor(row.body, UPSTREAM_DIMENSIONS);
      return (
        row.previous !== `[${row.id},0,0]` ||
        stored.length !== expected.length ||
        stored.some((v, i) => Math.fround(v) !== expected[i])
      );
    });
    expect(wrong.map((r) => r.id).slice(0, 10)).toEqual([]);

    // pgvector computes on the new vectors: a row is its own nearest neighbour.
    const probe = embeddingFor("pgvector chunk 42", UPSTREAM_DIMENSIONS);
    const [nearest] = await query<{ id: string }>(
      pglite.url,
      "SELECT id FROM kb.chunks ORDER BY embedding <=> $1::vector LIMIT 1",
      [`[${probe.join(",")}]`],
    );
    expect(nearest!.id).toBe("42");

    const { status } = await getMigration(world, "pgvector");
    expect(status).toMatchObject({
      phase: "Succeeded",
      progress: { done: 1_000, failed: 0, percent: "100%" },
    });
    expect(readyCondition(status)?.message).toBe(
      `kb.chunks.embedding holds the vectors from ${TARGET_ROUTE}; the previous ones are in embedding_previous`,
    );
  }, 120_000);

  it("retries batches the upstream fails transiently and loses none", async () => {
    await seed(300);
    world.upstream.requests.length = 0;
    const unavailable = { error: { message: "The server is overloaded", type: "server_error", code: null } };
    world.upstream.faults.push(
      { kind: "status", status: 503, body: unavailable },
      { kind: "status", status: 429, body: unavailable, headers: { "retry-after": "1" } },
    );
    await createMigration(world, "transient", migrationSpec({ batchSize: 100 }));
    const worker = runWorkerInProcess(world, "transient", pglite.url);
    expect(await worker.exit, worker.logs()).toBe(0);
    expect(worker.logs()).toContain("retrying a batch");
    // Three batches, two of them refused once each before they went through.
    expect(world.upstream.requests.filter((r) => r.url.endsWith("/embeddings"))).toHaveLength(5);
    const [counts] = await query<{ filled: string }>(
      pglite.url,
      "SELECT count(embedding) AS filled FROM kb.chunks",
    );
    expect(counts!.filled).toBe("300");
  }, 60_000);

  it("migrates only the rows the where filter selects, binding its values", async () => {
    await seed(100);
    const where = [
      { column: "id", op: "gt" as const, value: "40" },
      { column: "body", op: "ne" as const, value: "pgvector chunk 50'; DROP TABLE kb.chunks; --" },
      {
        column: "body",
        op: "in" as const,
        values: ["pgvector chunk 41", "pgvector chunk 42", "pgvector chunk 99"],
      },
    ];
    const spec = migrationSpec();
    spec.store.postgres.where = where;
    await createMigration(world, "filtered", spec);
    const worker = runWorkerInProcess(world, "filtered", pglite.url);
    expect(await worker.exit, worker.logs()).toBe(0);
    const migrated = await query<{ id: string }>(
      pglite.url,
      "SELECT id FROM kb.chunks WHERE embedding IS NOT NULL ORDER BY id",
    );
    expect(migrated.map((r) => r.id)).toEqual(["41", "42", "99"]);
    const { status } = await getMigration(world, "filtered");
    expect(status?.plan?.rows).toBe(3);
    expect(status?.progress).toEqual({ total: 3, done: 3, failed: 0, percent: "100%" });
  }, 60_000);

  it("stops when the resource is deleted, leaving what applications read as it was (exit 0)", async () => {
    await seed(300);
    await createMigration(world, "deleted", migrationSpec({ batchSize: 10, requestsPerMinute: 600 }));
    const worker = runWorkerInProcess(world, "deleted", pglite.url);
    await waitFor(
      async () => ((await getMigration(world, "deleted")).status?.progress?.done ?? 0) >= 30,
      30_000,
    );
    await world.admin.custom.deleteNamespacedCustomObject({
      group: "llm.switchboard.dev",
      version: "v1alpha1",
      namespace: world.namespace,
      plural: "embeddingmigrations",
      name: "deleted",
    });
    expect(await worker.exit).toBe(0);
    expect(await columnsOf(pglite.url)).toEqual(["id", "body", "embedding", "embedding_next"]);
    const [counts] = await query<{ old: string; filled: string }>(
      pglite.url,
      "SELECT count(*) FILTER (WHERE embedding::text = '[' || id || ',0,0]') AS old, count(embedding_next) AS filled FROM kb.chunks",
    );
    expect(counts!.old).toBe("300");
    expect(Number(counts!.filled)).toBeLessThan(300);
  }, 60_000);

  it("refuses an existing target column of another dimension before embedding anything (exit 2)", async () => {
    await seed(10);
    await query(pglite.url, "ALTER TABLE kb.chunks ADD COLUMN embedding_next vector(1536)");
    world.upstream.requests.length = 0;
    await createMigration(world, "wrong-column", migrationSpec());
    const worker = runWorkerInProcess(world, "wrong-column", pglite.url);
    expect(await worker.exit).toBe(2);
    expect(world.upstream.requests).toEqual([]);
    const { status } = await getMigration(world, "wrong-column");
    expect(status?.phase).toBe("Failed");
    expect(readyCondition(status)).toMatchObject({
      reason: "StoreSchemaInvalid",
      message: `kb.chunks.embedding_next is vector(1536) but target.dimensions is ${UPSTREAM_DIMENSIONS}`,
    });
  }, 60_000);
});
