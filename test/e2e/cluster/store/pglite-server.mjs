// The cluster suite's PostgreSQL with pgvector, as a pod: PGlite (Postgres compiled to WASM, with
// the real vector extension) behind the Postgres wire protocol on port 5432, in memory. Plain
// JavaScript: the image runs it with the project image's node, no build step.
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

const db = await PGlite.create({ extensions: { vector } });
await db.exec("CREATE EXTENSION IF NOT EXISTS vector");
const server = new PGLiteSocketServer({ db, host: "0.0.0.0", port: 5432 });
await server.start();
process.stdout.write("pglite listening on 0.0.0.0:5432\n");
process.once("SIGTERM", () => {
  void server.stop().then(() => process.exit(0));
});
