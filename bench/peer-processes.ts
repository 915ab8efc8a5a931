import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { homedir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Peer } from "./bench-processes.js";

/**
 * The peers the benchmark measures Switchboard against, pinned, installed on first use into a
 * cache outside the project (they are not its dependencies), and started as processes on
 * loopback: the bare Node proxy (bench/bare-proxy.ts), Portkey's gateway and the LiteLLM proxy.
 */

export const PORTKEY_VERSION = "1.15.2";
export const LITELLM_VERSION = "1.108.7";
/** Sent by the load generator to LiteLLM, which requires a master key. */
export const LITELLM_MASTER_KEY = "sk-litellm-bench-master";

const CACHE = path.join(homedir(), ".cache", "switchboard", "bench-peers");
const run = promisify(execFile);

export type Install = { ok: true; dir: string } | { ok: false; reason: string };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Until `url` answers at all (any status), or the process exits, or the deadline passes. */
async function waitForHttp(child: ChildProcess, url: string, name: string, timeoutMs: number): Promise<void> {
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`${name} did not start:\n${stderr}`);
}

export async function installPortkey(): Promise<Install> {
  const dir = path.join(CACHE, `portkey-${PORTKEY_VERSION}`);
  const entry = path.join(dir, "node_modules/@portkey-ai/gateway/build/start-server.js");
  if (existsSync(entry)) return { ok: true, dir };
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "package.json"), '{ "private": true }\n');
    await run("npm", ["install", "--no-audit", "--no-fund", `@portkey-ai/gateway@${PORTKEY_VERSION}`], {
      cwd: dir,
    });
    return { ok: true, dir };
  } catch (err) {
    return { ok: false, reason: `npm install @portkey-ai/gateway@${PORTKEY_VERSION} failed: ${String(err)}` };
  }
}

/** Portkey routes by headers: x-portkey-provider and x-portkey-custom-host name the upstream per request. */
export async function startPortkey(dir: string): Promise<Peer> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(dir, "node_modules/@portkey-ai/gateway/build/start-server.js"),
      `--port=${port}`,
      "--headless",
    ],
    { cwd: dir, env: { ...process.env, NODE_ENV: "production" }, stdio: ["ignore", "ignore", "pipe"] },
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(child, origin, "Portkey gateway", 30_000);
  return { child, origin };
}

export async function installLitellm(): Promise<Install> {
  const dir = path.join(CACHE, `litellm-${LITELLM_VERSION}`);
  if (existsSync(path.join(dir, "bin/litellm"))) return { ok: true, dir };
  try {
    await run("python3", ["-m", "venv", dir]);
    await run(path.join(dir, "bin/pip"), ["install", "-q", `litellm[proxy]==${LITELLM_VERSION}`], {
      maxBuffer: 64 * 2 ** 20,
    });
    return { ok: true, dir };
  } catch (err) {
    return { ok: false, reason: `pip install litellm[proxy]==${LITELLM_VERSION} failed: ${String(err)}` };
  }
}

/** The LiteLLM proxy with one worker and default settings; its cost map from the package, not the network. */
export async function startLitellm(dir: string, configFile: string): Promise<Peer> {
  const port = await freePort();
  const child = spawn(
    path.join(dir, "bin/litellm"),
    ["--config", configFile, "--host", "127.0.0.1", "--port", String(port), "--num_workers", "1"],
    {
      env: {
        ...process.env,
        LITELLM_MASTER_KEY,
        LITELLM_LOCAL_MODEL_COST_MAP: "True",
        LITELLM_LOG: "ERROR",
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${origin}/health/liveliness`, "LiteLLM proxy", 240_000);
  return { child, origin };
}
