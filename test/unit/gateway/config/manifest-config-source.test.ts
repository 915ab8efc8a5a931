import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigStore } from "../../../../src/gateway/config/config-store.js";
import { ManifestConfigSource } from "../../../../src/gateway/config/manifest-config-source.js";
import { createLogger } from "../../../../src/shared/logging.js";

const manifests = (model: string) => `apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMProvider
metadata: { name: local, namespace: watch }
spec:
  type: openai-compatible
  endpoint: http://127.0.0.1:9/v1
  credentials: { none: {} }
  models:
    - { name: ${model}, contextWindow: 8192, maxOutputTokens: 1024 }
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMRoute
metadata: { name: chat, namespace: watch }
spec:
  model: ${model}
  targets:
    - { provider: local, model: ${model} }
`;

const until = async (check: () => boolean) => {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met within 20 s");
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("ManifestConfigSource watching one file", () => {
  let dir: string | undefined;
  let source: ManifestConfigSource | undefined;
  afterEach(async () => {
    source?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reloads when the file changes, not when another file in its directory is written", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "switchboard-watch-"));
    const file = path.join(dir, "manifests.yaml");
    await writeFile(file, manifests("first-model"));
    const lines: string[] = [];
    const logger = createLogger("test", {
      destination: new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }),
    });
    const store = new ConfigStore();
    source = new ManifestConfigSource(file, store, logger);
    await source.reload();
    const reloads = vi.spyOn(source, "reload");
    source.watch(10);

    for (let i = 0; i < 5; i++) {
      await writeFile(path.join(dir, "gateway.log"), `line ${i}\n`);
      await new Promise((r) => setTimeout(r, 60));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(reloads).not.toHaveBeenCalled();

    await writeFile(file, manifests("second-model"));
    await until(() => store.current?.routesByModel.has("second-model") === true);
    expect(reloads).toHaveBeenCalled();
    expect(lines.filter((l) => l.includes('"config applied"'))).toHaveLength(2);
  });
});
