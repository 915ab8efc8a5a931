import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { EmbeddingClient } from "../src/migration/embedding-client.js";
import type { MigrationResource } from "../src/migration/migration-resource.js";
import { runMigration } from "../src/migration/migration-runner.js";
import { createLogger } from "../src/shared/logging.js";
import type {
  EmbeddingMigration,
  EmbeddingMigrationStatus,
} from "../src/shared/schemas/embedding-migration.js";
import { startPostgresServer } from "../test/support/postgres-server.js";
import { writeBenchManifests } from "./bench-manifests.js";
import { startGateway, startUpstream, stop } from "./bench-processes.js";

/**
 * Rows per second of the migration worker and its memory over a run: 100 000 rows re-embedded
 * into real[] on Debian's PostgreSQL, through `switchboard gateway` (built, its own process) in
 * front of an instant upstream (bench/instant-upstream.ts, its own process). The worker runs in
 * this process, so its RSS is this process's; status goes to memory instead of an API server.
 */

export const ROWS = 100_000;
export const BATCH_SIZE = 64;
export const DIMENSIONS = 768;
const MODEL = "bench-embed";

export interface RssSample {
  rows: number;
  rssMiB: number;
}

export interface MigrationBenchResult {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** RSS when the first 10% of rows were done, and at the end. */
  rss: RssSample[];
  peakRssMiB: number;
  loadAverage: number;
}

function migration(): EmbeddingMigration {
  return {
    apiVersion: "llm.switchboard.dev/v1alpha1",
    kind: "EmbeddingMigration",
    metadata: { name: "bench", namespace: "bench", uid: "bench", generation: 1 },
    spec: {
      source: { route: "old", dimensions: 3 },
      target: { route: MODEL, dimensions: DIMENSIONS },
      route: "embed",
      store: {
        postgres: {
          connectionSecretRef: { name: "pg", key: "url" },
          table: "kb.chunks",
          idColumn: "id",
          textColumn: "body",
          targetColumn: "embedding_next",
          readColumn: "embedding",
          retiredColumn: "embedding_previous",
        },
      },
      batchSize: BATCH_SIZE,
    },
  };
}

export async function runMigrationBench(rows = ROWS): Promise<MigrationBenchResult> {
  const loadAverage = loadavg()[0]!;
  const dir = await mkdtemp(path.join(tmpdir(), "switchboard-bench-migration-"));
  const postgres = await startPostgresServer();
  const upstream = await startUpstream();
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  const store = new pg.Client({ connectionString: postgres.url });
  try {
    await writeBenchManifests(dir, upstream.origin, MODEL, "embedding");
    gateway = await startGateway(dir);
    await store.connect();
    await store.query("CREATE SCHEMA kb");
    await store.query("CREATE TABLE kb.chunks (id bigint PRIMARY KEY, body text, embedding real[])");
    await store.query(
      `INSERT INTO kb.chunks SELECT i, repeat('knowledge base text ' || i || ' ', 5), ARRAY[i, 0, 0]::real[]
         FROM generate_series(1, $1::int) AS i`,
      [rows],
    );

    const rss: RssSample[] = [];
    let peakRssMiB = 0;
    let phase: EmbeddingMigrationStatus["phase"];
    const resource: MigrationResource = {
      // Standing in for the operator: the query route switches as soon as the worker asks.
      read: () =>
        Promise.resolve(
          phase === "CuttingOver"
            ? {
                ...migration(),
                status: { queryRoute: { switchedAt: new Date().toISOString(), configVersion: "bench" } },
              }
            : migration(),
        ),
      writeStatus: (status: EmbeddingMigrationStatus) => {
        phase = status.phase;
        const done = status.progress?.done ?? 0;
        const rssMiB = process.memoryUsage.rss() / 2 ** 20;
        peakRssMiB = Math.max(peakRssMiB, rssMiB);
        if (done > 0) rss.push({ rows: done, rssMiB });
        return Promise.resolve();
      },
    };
    const started = performance.now();
    const outcome = await runMigration({
      resource,
      migration: migration(),
      store,
      client: new EmbeddingClient({ gatewayUrl: gateway.origin, model: MODEL }),
      embeddingModel: MODEL,
      logger: createLogger("migrate", {
        level: "warn",
        destination: new Writable({ write: (_c, _e, cb) => cb() }),
      }),
      signal: new AbortController().signal,
      timing: { statusIntervalMs: 1_000, routeSwitchPollMs: 50 },
    });
    const seconds = (performance.now() - started) / 1000;
    if (outcome.result !== "succeeded") throw new Error(`migration ended ${JSON.stringify(outcome)}`);
    const [check] = (await store.query<{ n: string }>("SELECT count(embedding) AS n FROM kb.chunks")).rows;
    if (Number(check!.n) !== rows) throw new Error(`${check!.n} of ${rows} rows migrated`);
    return { rows, seconds, rowsPerSecond: rows / seconds, rss, peakRssMiB, loadAverage };
  } finally {
    await store.end().catch(() => undefined);
    if (gateway) await stop(gateway.child);
    await stop(upstream.child);
    await postgres.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
