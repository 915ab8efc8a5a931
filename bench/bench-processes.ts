import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The processes benchmarks run: the instant upstream and the built gateway, and /proc readings of them. */

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export function statusMiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

export function nodeProcess(
  args: string[],
  stdout: "pipe" | number,
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    // The default level, which logs one line per request, whatever the caller's shell sets.
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", stdout, "pipe"],
  });
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** A process the benchmark started, and where it listens. */
export interface Peer {
  child: ChildProcess;
  origin: string;
}

/** A TypeScript script of bench/ as its own process, printing `{"port": N}` once listening. */
export async function startScript(script: string, env: Record<string, string> = {}): Promise<Peer> {
  const child = nodeProcess(["--import", "tsx", path.join(REPO_ROOT, "bench", script)], "pipe", env);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const { port } = JSON.parse(line) as { port: number };
    lines.close();
    return { child, origin: `http://127.0.0.1:${port}` };
  }
  throw new Error(`${script} exited before listening:\n${stderr}`);
}

export function startUpstream(): Promise<Peer> {
  return startScript("instant-upstream.ts");
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
export const CLOCK_TICKS_PER_S = 100;

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

let built = false;

/**
 * `switchboard gateway` as the image runs it: `npm run build`'s dist/cli.js on plain node (no
 * transpiler in the process), built once per benchmark run; its JSON logs go to a file in `dir`.
 * `cliJs` runs another build instead, e.g. an earlier commit's to compare against.
 */
export async function startGateway(
  dir: string,
  args: string[] = [],
  cliJs = path.join(REPO_ROOT, "dist/cli.js"),
): Promise<Peer & { adminOrigin: string }> {
  if (!built) execFileSync("npm", ["run", "--silent", "build"], { cwd: REPO_ROOT, stdio: "inherit" });
  built = true;
  const log = path.join(dir, "gateway.log");
  const fd = openSync(log, "w");
  const manifests = path.join(dir, "manifests.yaml");
  const cli = [cliJs, "gateway", "--manifests", manifests];
  // Port 0 everywhere: other work on this machine may hold 8080 and the admin port 9090.
  const child = nodeProcess([...cli, "--port", "0", "--admin-port", "0", ...args], fd);
  closeSync(fd);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await readFile(log, "utf8");
    const listening = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"gateway listening"/.exec(text);
    const admin = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"admin listener/.exec(text);
    if (listening && admin) return { child, origin: listening[1]!, adminOrigin: admin[1]! };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop(child);
      throw new Error(`gateway did not start:\n${text}\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
