import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface TestPglite {
  /** postgres:// URL for the ordinary `pg` client. */
  url: string;
  stop(): Promise<void>;
}

/**
 * PostgreSQL with the real pgvector extension (PGlite, Postgres compiled to WASM) behind the
 * Postgres wire protocol on a loopback port, so the worker's `pg` client talks to it as to any
 * server. PGlite runs one session for all connections: tests read the store only while no
 * worker transaction is open.
 */
export async function startPgliteServer(): Promise<TestPglite> {
  const db = await PGlite.create({ extensions: { vector } });
  await db.exec("CREATE EXTENSION IF NOT EXISTS vector");
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0 });
  await server.start();
  const port = Number(server.getServerConn().split(":").pop());
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
