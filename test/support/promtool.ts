import { join } from "node:path";
import { runBuildScript } from "./build-script.js";
import { REPO_ROOT } from "./cli-process.js";

/** promtool, built from the pinned Prometheus module (cached; see test/tools/build-promtool.sh). */
export async function ensurePromtool(log?: NodeJS.WritableStream): Promise<string> {
  return (
    process.env.SWITCHBOARD_PROMTOOL ??
    (await runBuildScript(join(REPO_ROOT, "test", "tools", "build-promtool.sh"), log))
  );
}
