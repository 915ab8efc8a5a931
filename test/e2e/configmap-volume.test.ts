import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeAtomicVolume } from "../support/atomic-volume.js";
import { REPO_ROOT, runCli, waitForHttp, type CliProcess } from "../support/cli-process.js";
import { freePort } from "../support/free-port.js";

/**
 * The CLI on manifests mounted from a ConfigMap: the kubelet's `..<timestamp>/` directory, the
 * `..data` symlink and one symlink per key (test/support/atomic-volume.ts), updated the way the
 * kubelet updates it. `switchboard compile` and `switchboard gateway --manifests` see each resource
 * once, and the gateway reloads on every swap.
 */
const DEMO = path.join(REPO_ROOT, "config/samples/demo");
const provider = readFileSync(path.join(DEMO, "demo-provider.yaml"), "utf8");
const routes = readFileSync(path.join(DEMO, "demo-routes.yaml"), "utf8");
const withAlias = (alias: string) =>
  routes.replace("model: switchboard-demo\n", `model: switchboard-demo\n  aliases: [${alias}]\n`);

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "switchboard-configmap-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("switchboard compile <dir> on a ConfigMap volume", () => {
  it("compiles every resource once and exits 0", async () => {
    const volume = path.join(root, "compile");
    await writeAtomicVolume(volume, { "demo-provider.yaml": provider, "demo-routes.yaml": routes });
    await writeAtomicVolume(volume, { "demo-provider.yaml": provider, "demo-routes.yaml": withAlias("a") });
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "compile", volume], {
      cwd: REPO_ROOT,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const [code] = (await once(child, "close")) as [number];
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const config = JSON.parse(stdout) as { providers: unknown[]; routes: Array<{ aliases: string[] }> };
    expect(config.providers).toHaveLength(1);
    expect(config.routes).toHaveLength(2);
    expect(config.routes.flatMap((r) => r.aliases)).toContain("a");
  });
});

async function chat(baseUrl: string, model: string): Promise<number> {
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Starts the gateway on `manifests` with the demo upstream; the provider file points at it. */
async function startGateway(
  volume: string,
  manifests: string,
  files: (provider: string) => Record<string, string>,
) {
  const [port, adminPort, demoPort] = [await freePort(), await freePort(), await freePort()];
  const demoProvider = provider.replace("127.0.0.1:8081", `127.0.0.1:${demoPort}`);
  await writeAtomicVolume(volume, files(demoProvider));
  const cli = runCli([
    "gateway",
    "--manifests",
    manifests,
    "--port",
    String(port),
    "--admin-port",
    String(adminPort),
    "--demo-upstream",
    String(demoPort),
  ]);
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${baseUrl}/readyz`);
  return { cli, baseUrl, demoProvider };
}

const applied = (cli: CliProcess) => cli.output().match(/"msg":"config applied"/g)?.length ?? 0;

async function waitUntil(check: () => Promise<boolean>, what: string, cli: CliProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}:\n${cli.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("switchboard gateway --manifests <dir> on a ConfigMap volume", () => {
  let cli: CliProcess;
  let baseUrl: string;
  let demoProvider: string;
  const volume = () => path.join(root, "gateway-dir");

  beforeAll(async () => {
    ({ cli, baseUrl, demoProvider } = await startGateway(volume(), volume(), (p) => ({
      "demo-provider.yaml": p,
      "demo-routes.yaml": routes,
    })));
  });
  afterAll(async () => {
    await cli?.stop();
  });

  it("starts with each resource once and serves", async () => {
    expect(cli.output()).not.toContain("defined twice");
    expect(await chat(baseUrl, "switchboard-demo")).toBe(200);
  });

  it("applies each update the kubelet swaps in, keys added and removed included", async () => {
    await writeAtomicVolume(volume(), {
      "demo-provider.yaml": demoProvider,
      "demo-routes.yaml": withAlias("one"),
    });
    await waitUntil(async () => (await chat(baseUrl, "one")) === 200, "alias one is served", cli);

    // The routes move to a new key; the old key's symlink goes away in the same update.
    await writeAtomicVolume(volume(), {
      "demo-provider.yaml": demoProvider,
      "routes.yaml": withAlias("two"),
    });
    await waitUntil(async () => (await chat(baseUrl, "two")) === 200, "alias two is served", cli);
    expect(await chat(baseUrl, "one")).toBe(404);
    expect(cli.output()).not.toContain("defined twice");
  });

  it("refuses an invalid update, keeps serving, and applies the next valid one", async () => {
    const before = applied(cli);
    await writeAtomicVolume(volume(), {
      "demo-provider.yaml": demoProvider,
      "routes.yaml": withAlias("three").replace("model: demo-chat", "model: no-such-model"),
    });
    await cli.waitForOutput(/config refused/);
    expect(cli.output()).toContain('LLMProvider \\"demo-upstream\\" has no model \\"no-such-model\\"');
    expect(await chat(baseUrl, "two")).toBe(200);
    await writeAtomicVolume(volume(), {
      "demo-provider.yaml": demoProvider,
      "routes.yaml": withAlias("four"),
    });
    await waitUntil(async () => (await chat(baseUrl, "four")) === 200, "alias four is served", cli);
    expect(applied(cli)).toBeGreaterThan(before);
  });
});

describe("switchboard gateway --manifests <file> on a key of a ConfigMap volume", () => {
  let cli: CliProcess;
  let baseUrl: string;
  let demoProvider: string;
  const volume = () => path.join(root, "gateway-file");
  const key = "switchboard.yaml";

  beforeAll(async () => {
    ({ cli, baseUrl, demoProvider } = await startGateway(volume(), path.join(volume(), key), (p) => ({
      [key]: `${p}\n---\n${routes}`,
    })));
  });
  afterAll(async () => {
    await cli?.stop();
  });

  it("reloads on every swap, not only the first, though the symlink's target is replaced each time", async () => {
    for (const alias of ["first", "second", "third"]) {
      await writeAtomicVolume(volume(), { [key]: `${demoProvider}\n---\n${withAlias(alias)}` });
      await waitUntil(async () => (await chat(baseUrl, alias)) === 200, `alias ${alias} is served`, cli);
    }
  });
});
