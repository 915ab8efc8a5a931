import { spawn } from "node:child_process";
import { once } from "node:events";
import { relative } from "node:path";
import { REPO_ROOT } from "./cli-process.js";

/**
 * Runs one of the repo's build scripts (test/controlplane/build.sh, test/tools/build-promtool.sh):
 * a no-op when its output is cached. Progress goes to `log`; returns the last line it prints.
 */
export async function runBuildScript(
  script: string,
  log: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  const name = relative(REPO_ROOT, script);
  const child = spawn("bash", [script], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderrTail = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderrTail = (stderrTail + d).slice(-8000);
    log.write(d);
  });
  const [code] = (await once(child, "close")) as [number | null];
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${stderrTail}`);
  const built = stdout.trim().split("\n").pop()?.trim();
  if (!built) throw new Error(`${name} printed nothing`);
  return built;
}
