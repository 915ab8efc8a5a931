import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "./free-port.js";

export interface TestPostgres {
  /** postgres:// URL of the superuser on loopback (trust auth). */
  url: string;
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/** Debian keeps server binaries out of PATH, in /usr/lib/postgresql/<major>/bin. */
function binDir(): string {
  const root = "/usr/lib/postgresql";
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => existsSync(path.join(root, d, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) throw new Error("no PostgreSQL server found: run scripts/setup-test-deps.sh");
  return path.join(root, majors[0]!, "bin");
}

/** initdb refuses to run as root; the server then runs as Debian's postgres user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

/**
 * A throwaway PostgreSQL cluster (Debian's server, no pgvector) on a free loopback port:
 * initdb into a temp directory, trust auth, no fsync (the tests kill the client, not the server).
 */
export async function startPostgresServer(): Promise<TestPostgres> {
  const bin = binDir();
  const user = serverUser();
  const dir = await mkdtemp(path.join(tmpdir(), "switchboard-pg-"));
  if (user) await chown(dir, user.uid, user.gid);
  const data = path.join(dir, "data");
  const asServer = user ? { uid: user.uid, gid: user.gid } : {};
  execFileSync(
    path.join(bin, "initdb"),
    ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"],
    { ...asServer, stdio: "pipe" },
  );
  const port = await freePort();
  let output = "";
  const child: ChildProcess = spawn(
    path.join(bin, "postgres"),
    [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
    ],
    { ...asServer, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGINT"); // fast shutdown
      await once(child, "exit");
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, port, output: () => output, stop };
}
