import { readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../../src/shared/compile.js";
import { loadManifests } from "../../../src/shared/manifests.js";
import { PROVIDER_TYPES } from "../../../src/shared/schemas/llm-provider.js";

const SAMPLES = path.resolve(import.meta.dirname, "../../../config/samples");
const dirs = readdirSync(SAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

describe("config/samples", () => {
  it.each(dirs)("%s compiles without errors or warnings", async (dir) => {
    const result = compile(await loadManifests(path.join(SAMPLES, dir)));
    expect(result.diagnostics).toEqual([]);
    expect(result.config!.routes.length).toBeGreaterThan(0);
  });

  it("has a sample for every provider type", async () => {
    const types = new Set<string>();
    for (const dir of dirs) {
      for (const provider of compile(await loadManifests(path.join(SAMPLES, dir))).config!.providers)
        types.add(provider.type);
    }
    expect([...types].sort()).toEqual([...PROVIDER_TYPES].sort());
  });
});
