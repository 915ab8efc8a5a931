/**
 * EmbeddingMigration end to end on Debian's PostgreSQL (real[] vectors, no pgvector): the worker
 * re-embeds a table through a real gateway in front of a fake upstream whose vectors are a
 * function of the text, reports status on a real API server, survives SIGKILL, pauses, waits
 * for approval, records rows that fail for good, and refuses what can never work.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddingFor, TRIGGER_CONTEXT_LENGTH } from "../../fakes/openai-fake.js";
import { runCli } from "../../support/cli-process.js";
import { startPostgresServer, type TestPostgres } from "../../support/postgres-server.js";
import { waitFor } from "../operator/operator-kit.js";
import {
  columnsOf,
  createMigration,
  embeddedTexts,
  CONSUMER_KEY,
  EU_ONLY_ROUTE,
  KEYED_ROUTE,
  getMigration,
  migrationSpec,
  patchSpec,
  query,
  readyCondition,
  rowText,
  runWorkerInProcess,
  seedTable,
  switchQueryRouteWhenAsked,
  startMigrationWorld,
  TARGET_ROUTE,
  UPSTREAM_DIMENSIONS,
  type MigrationWorld,
} from "./migration-kit.js";

let postgres: TestPostgres;
let world: MigrationWorld;

beforeAll(async () => {
  postgres = await startPostgresServer();
  world = await startMigrationWorld(`migration-pg-${Date.now().toString(36)}`);
}, 120_000);

afterAll(async () => {
  await world?.close();
  await postgres?.stop();
});

/** Every row's readColumn holds exactly the upstream's vector for its text; the old one is retired. */
async function expectEveryRowMigrated(rows: number, failedIds: number[] = []) {
  const stored = await query<{ id: string; body: string; embedding: number[] | null; previous: number[] }>(
    postgres.url,
    "SELECT id, body, embedding, embedding_previous AS previous FROM kb.chunks ORDER BY id",
  );
  expect(stored).toHaveLength(rows);
  const wrong: string[] = [];
  for (const row of stored) {
    const id = Number(row.id);
    if (row.previous[0] !== id) wrong.push(`${id}: old vector lost`);
    if (failedIds.includes(id)) {
      if (row.embedding !== null) wrong.push(`${id}: failed row has a vector`);
      continue;
    }
    const expected = embeddingFor(row.body, UPSTREAM_DIMENSIONS);
    if (row.embedding === null) wrong.push(`${id}: skipped`);
    // PostgreSQL prints float4 in its shortest form; Math.fround gives back the float32 stored.
    else if (
      row.embedding.some((v, i) => Math.fround(v) !== expected[i]) ||
      row.embedding.length !== expected.length
    )
      wrong.push(`${id}: vector is not the embedding of its text`);
  }
  expect(wrong.slice(0, 10)).toEqual([]);
}

describe("EmbeddingMigration on PostgreSQL (real[])", () => {
  it("migrates 10k rows through the gateway, survives SIGKILL mid-run and resumes without skipping or redoing more than one batch", async () => {
    const rows = 10_000;
    await seedTable(postgres.url, rows);
    world.upstream.requests.length = 0;
    await createMigration(world, "kill-resume", migrationSpec());
    const args = [
      "migrate",
      "--migration",
      `${world.namespace}/kill-resume`,
      "--gateway-url",
      world.gateway.url,
      "--embedding-model",
      TARGET_ROUTE,
      "--input-price-per-1m",
      "0.02",
      "--kubeconfig",
      world.admin.kubeconfigPath,
    ];
    const env = { SWITCHBOARD_STORE_URL: postgres.url };

    const first = runCli(args, env);
    const checkpointed = () =>
      query<{ done: string; checkpoint: string }>(
        postgres.url,
        "SELECT done, checkpoint FROM kb.switchboard_migrations",
      ).catch(() => []);
    await waitFor(async () => Number((await checkpointed())[0]?.done ?? 0) >= 2_000, 60_000, 20);
    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));
    const [atKill] = await checkpointed();
    expect(Number(atKill!.done)).toBeLessThan(rows);
    // The done count and the checkpoint moved together: every row up to it has its vector.
    const behind = await query<{ missing: string }>(
      postgres.url,
      "SELECT count(*) AS missing FROM kb.chunks WHERE id <= $1 AND embedding_next IS NULL",
      [atKill!.checkpoint],
    );
    expect(Number(behind[0]!.missing)).toBe(0);
    expect(Number(atKill!.checkpoint)).toBe(Number(atKill!.done));
    // Applications still read the old vectors.
    expect(await columnsOf(postgres.url)).toEqual(["id", "body", "embedding", "embedding_next"]);

    const second = runCli(args, env);
    const exited = new Promise<number | null>((resolve) => second.child.once("exit", resolve));
    switchQueryRouteWhenAsked(world, "kill-resume", exited);
    const code = await exited;
    expect(code, second.output()).toBe(0);

    const texts = embeddedTexts(world.upstream);
    const distinct = new Set(texts);
    expect(distinct.size).toBe(rows);
    // At most the batch in flight at the kill was sent twice.
    expect(texts.length - rows).toBeLessThanOrEqual(64);
    expect(await columnsOf(postgres.url)).toEqual(["id", "body", "embedding_previous", "embedding"]);
    await expectEveryRowMigrated(rows);

    const { status } = await getMigration(world, "kill-resume");
    expect(status).toMatchObject({
      phase: "Succeeded",
      plan: { rows, estimatedTokens: expect.any(Number), estimatedCostUsd: expect.any(String) },
      progress: { total: rows, done: rows, failed: 0, percent: "100%" },
      checkpoint: String(rows),
      failedSamples: [],
    });
    expect(status?.cutoverAt).toBeDefined();
    expect(status?.startedAt).toBeDefined();
    expect(readyCondition(status)).toMatchObject({ status: "True", reason: "Succeeded" });
  }, 180_000);

  it("records rows that fail for good, counts them and waits for approval before cutting over without them", async () => {
    const bodies = {
      17: `${rowText(17)} ${TRIGGER_CONTEXT_LENGTH}`,
      150: "",
      151: null,
      290: TRIGGER_CONTEXT_LENGTH,
    };
    await seedTable(postgres.url, 300, bodies);
    await createMigration(world, "failures", migrationSpec({ batchSize: 50 }));
    const worker = runWorkerInProcess(world, "failures", postgres.url);

    const waiting = await waitFor(async () => {
      const { status } = await getMigration(world, "failures");
      return status?.phase === "AwaitingCutover" ? status : undefined;
    }, 60_000);
    expect(waiting.progress).toEqual({ total: 300, done: 296, failed: 4, percent: "100%" });
    expect(readyCondition(waiting)).toMatchObject({ status: "False", reason: "RowsFailed" });
    expect(readyCondition(waiting)?.message).toContain("4 rows failed");
    expect(waiting.failedSamples?.map((f) => f.id).sort()).toEqual(["150", "151", "17", "290"]);
    const reasons = Object.fromEntries(waiting.failedSamples!.map((f) => [f.id, f.reason]));
    expect(reasons["150"]).toBe("text is empty");
    expect(reasons["17"]).toMatch(/^gateway answered 400.*maximum context length/);
    const recorded = await query<{ row_id: string }>(
      postgres.url,
      "SELECT row_id FROM kb.switchboard_migration_failures ORDER BY row_id",
    );
    expect(recorded.map((r) => r.row_id)).toEqual(["150", "151", "17", "290"]);
    expect(await columnsOf(postgres.url)).toContain("embedding_next");

    await patchSpec(world, "failures", { cutoverApproved: true });
    expect(await worker.exit).toBe(0);
    await expectEveryRowMigrated(300, [17, 150, 151, 290]);
    expect((await getMigration(world, "failures")).status?.phase).toBe("Succeeded");
  }, 90_000);

  it("pauses after the batch in flight and resumes where it stopped", async () => {
    await seedTable(postgres.url, 600);
    await createMigration(world, "pause", migrationSpec({ batchSize: 10, requestsPerMinute: 1_200 }));
    const worker = runWorkerInProcess(world, "pause", postgres.url);
    const done = async () =>
      Number(
        (await query<{ done: string }>(postgres.url, "SELECT done FROM kb.switchboard_migrations"))[0]
          ?.done ?? 0,
      );
    await waitFor(async () => (await done().catch(() => 0)) >= 100, 30_000);
    await patchSpec(world, "pause", { paused: true });
    const paused = await waitFor(async () => {
      const { status } = await getMigration(world, "pause");
      return status?.phase === "Paused" ? status : undefined;
    }, 10_000);
    expect(readyCondition(paused)?.reason).toBe("Paused");
    const atPause = await done();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await done()).toBe(atPause);
    expect(atPause).toBeLessThan(600);

    await patchSpec(world, "pause", { paused: false });
    expect(await worker.exit).toBe(0);
    await expectEveryRowMigrated(600);
    const { status } = await getMigration(world, "pause");
    expect(status?.progress).toEqual({ total: 600, done: 600, failed: 0, percent: "100%" });
  }, 90_000);

  it("waits in AwaitingCutover for a manual cutover, readers still on the old vectors, then swaps in one step", async () => {
    await seedTable(postgres.url, 200);
    await createMigration(world, "manual", migrationSpec({ cutover: "manual" }));
    const worker = runWorkerInProcess(world, "manual", postgres.url);
    const waiting = await waitFor(async () => {
      const { status } = await getMigration(world, "manual");
      return status?.phase === "AwaitingCutover" ? status : undefined;
    }, 60_000);
    expect(readyCondition(waiting)).toMatchObject({ reason: "AwaitingApproval" });
    expect(waiting.cutoverAt).toBeUndefined();
    // Everything is embedded, but applications still read the old column.
    const [counts] = await query<{ filled: string; old: string }>(
      postgres.url,
      "SELECT count(embedding_next) AS filled, count(*) FILTER (WHERE embedding[1] = id) AS old FROM kb.chunks",
    );
    expect(counts).toEqual({ filled: "200", old: "200" });

    await patchSpec(world, "manual", { cutoverApproved: true });
    expect(await worker.exit).toBe(0);
    await expectEveryRowMigrated(200);
    expect((await getMigration(world, "manual")).status?.cutoverAt).toBeDefined();
  }, 90_000);

  it("stops with DimensionMismatch when the vectors have another length, writing nothing (exit 2)", async () => {
    await seedTable(postgres.url, 100);
    await createMigration(
      world,
      "mismatch",
      migrationSpec({ target: { route: TARGET_ROUTE, dimensions: 1024 } }),
    );
    const worker = runWorkerInProcess(world, "mismatch", postgres.url);
    expect(await worker.exit).toBe(2);
    const { status } = await getMigration(world, "mismatch");
    expect(status?.phase).toBe("Failed");
    expect(readyCondition(status)).toMatchObject({
      status: "False",
      reason: "DimensionMismatch",
      message: `the gateway returned ${UPSTREAM_DIMENSIONS}-dimensional vectors from ${TARGET_ROUTE}, but spec.target.dimensions is 1024; no vector was written for this batch`,
    });
    const [counts] = await query<{ filled: string; old: string }>(
      postgres.url,
      "SELECT count(embedding_next) AS filled, count(*) FILTER (WHERE embedding[1] = id) AS old FROM kb.chunks",
    );
    expect(counts).toEqual({ filled: "0", old: "100" });
  }, 60_000);

  it("authenticates on a route with consumers with the key it is given, and is refused without it", async () => {
    await seedTable(postgres.url, 300);
    const spec = migrationSpec({ target: { route: KEYED_ROUTE, dimensions: UPSTREAM_DIMENSIONS } });
    await createMigration(world, "keyed-refused", spec);
    const refused = runWorkerInProcess(world, "keyed-refused", postgres.url, { model: KEYED_ROUTE });
    expect(await refused.exit).toBe(2);
    const failed = (await getMigration(world, "keyed-refused")).status;
    expect(failed?.phase).toBe("Failed");
    expect(readyCondition(failed)).toMatchObject({ reason: "GatewayRefused" });
    expect(readyCondition(failed)?.message).toContain("401");
    expect(await columnsOf(postgres.url)).toEqual(["id", "body", "embedding", "embedding_next"]);

    await seedTable(postgres.url, 300);
    await createMigration(world, "keyed", spec);
    const worker = runWorkerInProcess(world, "keyed", postgres.url, {
      model: KEYED_ROUTE,
      apiKey: CONSUMER_KEY,
    });
    expect(await worker.exit, worker.logs()).toBe(0);
    expect((await getMigration(world, "keyed")).status?.phase).toBe("Succeeded");
    await expectEveryRowMigrated(300);
    expect(worker.logs()).not.toContain(CONSUMER_KEY);
  }, 120_000);

  it("refuses a target the route's residency policy forbids: the upstream is never called (exit 2)", async () => {
    await seedTable(postgres.url, 100);
    world.upstream.requests.length = 0;
    await createMigration(
      world,
      "residency",
      migrationSpec({ target: { route: EU_ONLY_ROUTE, dimensions: UPSTREAM_DIMENSIONS } }),
    );
    const worker = runWorkerInProcess(world, "residency", postgres.url, { model: EU_ONLY_ROUTE });
    expect(await worker.exit).toBe(2);
    expect(embeddedTexts(world.upstream)).toEqual([]);
    const { status } = await getMigration(world, "residency");
    expect(status?.phase).toBe("Failed");
    expect(readyCondition(status)?.reason).toBe("ResidencyRefused");
    expect(readyCondition(status)?.message).toMatch(/data-residency/);
    expect(await columnsOf(postgres.url)).toEqual(["id", "body", "embedding", "embedding_next"]);
  }, 60_000);
});
