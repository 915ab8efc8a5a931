import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { compile } from "../../../src/shared/compile.js";
import { listManifestFiles, loadManifests, parseManifest } from "../../../src/shared/manifests.js";
import { writeAtomicVolume } from "../../support/atomic-volume.js";

const DEMO = path.resolve(import.meta.dirname, "../../../config/samples/demo");
const demoFiles = Object.fromEntries(
  ["demo-provider.yaml", "demo-routes.yaml"].map((f) => [f, readFileSync(path.join(DEMO, f), "utf8")]),
);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "switchboard-manifests-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ids = (objects: Array<{ object: unknown }>) =>
  objects.map(({ object }) => {
    const o = object as { kind: string; metadata: { name: string } };
    return `${o.kind}/${o.metadata.name}`;
  });

describe("loadManifests on a directory mounted from a ConfigMap", () => {
  it("reads each key once, through the symlink the user sees, and compiles", async () => {
    await writeAtomicVolume(dir, demoFiles);
    // The kubelet's layout: a timestamped directory, ..data pointing at it, one symlink per key.
    const entries = await readdir(dir);
    expect(entries.filter((e) => /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\./.test(e))).toHaveLength(1);
    expect(entries).toContain("..data");

    expect(await listManifestFiles(dir)).toEqual(
      ["demo-provider.yaml", "demo-routes.yaml"].map((f) => path.join(dir, f)),
    );
    const objects = await loadManifests(dir);
    expect(ids(objects)).toEqual([
      "LLMProvider/demo-upstream",
      "LLMRoute/switchboard-demo",
      "LLMRoute/switchboard-demo-embeddings",
    ]);
    expect(compile(objects).diagnostics).toEqual([]);
  });

  it("still reads each key once after the kubelet swaps in an update, and sees the update", async () => {
    await writeAtomicVolume(dir, demoFiles);
    await writeAtomicVolume(dir, {
      "demo-provider.yaml": demoFiles["demo-provider.yaml"]!,
      "routes.yaml": demoFiles["demo-routes.yaml"]!.replace("name: switchboard-demo\n", "name: renamed\n"),
    });
    expect(ids(await loadManifests(dir))).toEqual([
      "LLMProvider/demo-upstream",
      "LLMRoute/renamed",
      "LLMRoute/switchboard-demo-embeddings",
    ]);
  });

  it("follows a key projected to a nested path (a symlinked directory)", async () => {
    await writeAtomicVolume(dir, {
      "demo-provider.yaml": demoFiles["demo-provider.yaml"]!,
      "team-a/routes.yaml": demoFiles["demo-routes.yaml"]!,
    });
    expect(await listManifestFiles(dir)).toEqual([
      path.join(dir, "demo-provider.yaml"),
      path.join(dir, "team-a", "routes.yaml"),
    ]);
  });
});

describe("loadManifests on an ordinary directory", () => {
  it("skips hidden entries and dangling symlinks, and ends a symlink loop", async () => {
    await writeFile(path.join(dir, "provider.yaml"), demoFiles["demo-provider.yaml"]!);
    await mkdir(path.join(dir, "sub"));
    await writeFile(path.join(dir, "sub", "routes.yml"), demoFiles["demo-routes.yaml"]!);
    await writeFile(path.join(dir, ".routes.yaml.swp"), "not yaml: [");
    await mkdir(path.join(dir, ".git"));
    await writeFile(path.join(dir, ".git", "copy.yaml"), demoFiles["demo-routes.yaml"]!);
    await symlink("gone.yaml", path.join(dir, "dangling.yaml"));
    await symlink("..", path.join(dir, "sub", "loop"));
    await writeFile(path.join(dir, "README.md"), "# not a manifest");

    expect(await listManifestFiles(dir)).toEqual([
      path.join(dir, "provider.yaml"),
      path.join(dir, "sub", "routes.yml"),
    ]);
    expect(compile(await loadManifests(dir)).diagnostics).toEqual([]);
  });

  it("reads a single file given directly, hidden or not", async () => {
    const file = path.join(dir, ".provider.yaml");
    await writeFile(file, demoFiles["demo-provider.yaml"]!);
    expect(ids(await loadManifests(file))).toEqual(["LLMProvider/demo-upstream"]);
  });
});

const SECRET = "sk-live-Q9w8E7r6T5y4U3i2O1p0";

describe("parseManifest", () => {
  it.each([
    ["a nested mapping", `apiVersion: v1\nkind: Secret\nstringData:\n  apiKey: ${SECRET}: x\n`, 4],
    ["an unclosed quote", `apiVersion: v1\nkind: Secret\nstringData:\n  apiKey: "${SECRET}\n`, 5],
    ["a bad indent", `apiVersion: v1\nkind: Secret\nstringData:\n  a: b\n apiKey: ${SECRET}\n`, 5],
  ])("names the line of %s without quoting the source, which may be a credential", (_what, text, line) => {
    let message = "";
    try {
      parseManifest(text, "secret.yaml");
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(new RegExp(`^secret\\.yaml: invalid YAML at line ${line}, column \\d+: \\w`));
    expect(message).not.toContain("Q9w8E7r6");
  });
});
