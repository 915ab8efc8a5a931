/**
 * An EmbeddingMigration on a large, busy table (Debian's PostgreSQL): one tenant's rows are
 * migrated out of a table whose other tenant makes it large, while an application keeps editing
 * and inserting rows and reading the table. Rows written after their batch passed end with the
 * vector of their final text, and the cutover holds the table lock only for its short last step:
 * the full check for rows without a new vector runs before, with reads and writes going on.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddingFor } from "../../fakes/openai-fake.js";
import { startPostgresServer, type TestPostgres } from "../../support/postgres-server.js";
import { waitFor } from "../operator/operator-kit.js";
import {
  createMigration,
  getMigration,
  migrationSpec,
  query,
  runWorkerInProcess,
  startMigrationWorld,
  UPSTREAM_DIMENSIONS,
  type MigrationWorld,
} from "./migration-kit.js";

const OTHER_ROWS = 300_000;
const TENANT_ROWS = 2_000;

let postgres: TestPostgres;
let world: MigrationWorld;

beforeAll(async () => {
  postgres = await startPostgresServer();
  world = await startMigrationWorld(`migration-busy-${Date.now().toString(36)}`);
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    await client.query("CREATE SCHEMA kb");
    await client.query(
      "CREATE TABLE kb.chunks (id bigint PRIMARY KEY, tenant text NOT NULL, body text, embedding real[])",
    );
    // The tenant being migrated is spread over the whole id range, as rows of many tenants are.
    await client.query(
      `INSERT INTO kb.chunks
       SELECT i, CASE WHEN i % $2::int = 0 THEN 'acme' ELSE 'other' END, 'text of row ' || i, ARRAY[i, 0, 0]::real[]
         FROM generate_series(1, $1::int) AS i`,
      [OTHER_ROWS + TENANT_ROWS, Math.floor((OTHER_ROWS + TENANT_ROWS) / TENANT_ROWS)],
    );
    await client.query("ANALYZE kb.chunks");
  } finally {
    await client.end();
  }
}, 180_000);

afterAll(async () => {
  await world?.close();
  await postgres?.stop();
});

/** What an application does meanwhile: edits texts, inserts rows (behind and ahead of the checkpoint), reads. */
function startApplication(url: string) {
  const texts = new Map<number, string>();
  const afterCutover = new Set<number>();
  const latenciesMs: number[] = [];
  const errors: string[] = [];
  let stopped = false;
  let writes = 0;
  let reads = 0;
  const step = 151; // row ids of the tenant are multiples of it (see the seed)
  const loop = async (work: (client: pg.Client, n: number) => Promise<void>) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (let n = 1; !stopped; n++) {
        const started = performance.now();
        await work(client, n).catch((err: Error) => errors.push(err.message));
        latenciesMs.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      await client.end();
    }
  };
  const running = Promise.all([
    loop(async (client, n) => {
      // An edit of a tenant row (passed already or not) and a new tenant row behind the checkpoint,
      // in one transaction that also tells whether the cutover had happened (the tracking trigger
      // is gone): after it, vectors of new writes are the application's business.
      const id = step * (1 + ((n * 7919) % TENANT_ROWS));
      const fresh = -n;
      await client.query("BEGIN");
      await client.query("UPDATE kb.chunks SET body = $2 WHERE id = $1", [id, `edited ${n} of row ${id}`]);
      await client.query("INSERT INTO kb.chunks (id, tenant, body) VALUES ($1, 'acme', $2)", [
        fresh,
        `inserted row ${fresh}`,
      ]);
      const { rows } = await client.query<{ tracked: boolean }>(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'kb.chunks'::regclass AND NOT tgisinternal) AS tracked",
      );
      await client.query("COMMIT");
      texts.set(id, `edited ${n} of row ${id}`);
      texts.set(fresh, `inserted row ${fresh}`);
      if (!rows[0]!.tracked) for (const written of [id, fresh]) afterCutover.add(written);
      writes++;
    }),
    loop(async (client, n) => {
      await client.query("SELECT id, body, embedding FROM kb.chunks WHERE id = $1", [n]);
      reads++;
    }),
  ]);
  return {
    texts,
    afterCutover,
    errors,
    counts: () => ({ reads, writes }),
    stop: async () => {
      stopped = true;
      await running;
      return latenciesMs;
    },
  };
}

function logLine(logs: string, message: string): Record<string, number> {
  const line = logs
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === message);
  expect(line, `log line "${message}"`).toBeDefined();
  return line as Record<string, number>;
}

describe("EmbeddingMigration on a large table that applications keep writing", () => {
  it("re-embeds rows edited or inserted during the run and locks the table only for the short last step", async () => {
    let holdRouteSwitch = true;
    await createMigration(
      world,
      "busy",
      migrationSpec({
        store: {
          postgres: {
            ...migrationSpec().store.postgres,
            where: [{ column: "tenant", op: "eq", value: "acme" }],
          },
        },
      }),
    );
    const app = startApplication(postgres.url);
    const worker = runWorkerInProcess(world, "busy", postgres.url, {
      holdRouteSwitch: () => holdRouteSwitch,
    });

    // Every row has its new vector and the worker waits for the query route: nothing is locked,
    // the application keeps reading and writing, and what it writes is embedded as it comes.
    await waitFor(
      async () => (await getMigration(world, "busy")).status?.phase === "CuttingOver",
      120_000,
      100,
    );
    const before = app.counts();
    await waitFor(() => app.counts().writes >= before.writes + 20, 60_000, 50);
    expect(app.counts().reads).toBeGreaterThan(before.reads);
    holdRouteSwitch = false;

    expect(await worker.exit, worker.logs()).toBe(0);
    const during = app.counts();
    const latencies = await app.stop();
    expect(app.errors).toEqual([]);
    expect(during.writes).toBeGreaterThan(before.writes);

    // The full check ran without the lock; under it only the rows changed since were checked.
    const { verifyMs } = logLine(
      worker.logs(),
      "every row in scope has its new vector (checked without a lock)",
    );
    const { lockHeldMs } = logLine(worker.logs(), "store cut over; table lock released");
    const summary =
      `${OTHER_ROWS + TENANT_ROWS} rows: verified without a lock in ${verifyMs} ms, lock held ${lockHeldMs} ms; ` +
      `application: ${during.reads} reads and ${during.writes} writes, slowest ${Math.round(Math.max(...latencies))} ms`;
    expect(lockHeldMs, summary).toBeLessThan(verifyMs!);

    // Every tenant row, including each one edited or inserted meanwhile, has the vector of its final text.
    const rows = await query<{ id: string; body: string; embedding: number[] | null }>(
      postgres.url,
      "SELECT id, body, embedding FROM kb.chunks WHERE tenant = 'acme' ORDER BY id",
    );
    expect(rows.length).toBe(
      TENANT_ROWS + app.texts.size - [...app.texts.keys()].filter((id) => id > 0).length,
    );
    const wrong: string[] = [];
    for (const row of rows) {
      const id = Number(row.id);
      const text = app.texts.get(id) ?? `text of row ${id}`;
      if (row.body !== text) wrong.push(`${id}: body ${row.body}, expected ${text}`);
      if (app.afterCutover.has(id)) continue;
      const expected = embeddingFor(text, UPSTREAM_DIMENSIONS);
      if (row.embedding === null) wrong.push(`${id}: no vector`);
      else if (row.embedding.some((v, i) => Math.fround(v) !== expected[i]))
        wrong.push(`${id}: stale vector`);
    }
    expect(wrong.slice(0, 10)).toEqual([]);
    expect([...app.texts.keys()].some((id) => id < 0)).toBe(true);

    // Nothing of the tracking is left on the table.
    const leftovers = await query<{ name: string }>(
      postgres.url,
      `SELECT tgname AS name FROM pg_trigger WHERE tgrelid = 'kb.chunks'::regclass AND NOT tgisinternal
       UNION ALL SELECT relname FROM pg_class WHERE relname LIKE 'switchboard_changes_%'`,
    );
    expect(leftovers).toEqual([]);
  }, 400_000);
});
