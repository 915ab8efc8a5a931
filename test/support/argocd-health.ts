import { readFileSync } from "node:fs";
import path from "node:path";
import { LuaFactory } from "wasmoon";
import { REPO_ROOT } from "./cli-process.js";

const DIR = path.join(REPO_ROOT, "charts/switchboard/argocd");

export interface ArgoHealth {
  status: string;
  message: string;
}

/** Runs the chart's Argo CD Lua health check of `kind` in a real Lua VM, the way Argo CD does (`obj` global). */
export async function argoHealth(
  kind: "llmprovider" | "llmroute" | "embeddingmigration",
  obj: unknown,
): Promise<ArgoHealth> {
  const lua = await new LuaFactory().createEngine();
  try {
    lua.global.set("obj", obj);
    return (await lua.doString(readFileSync(path.join(DIR, `health-${kind}.lua`), "utf8"))) as ArgoHealth;
  } finally {
    lua.global.close();
  }
}
