/** What the chart tests share: running helm/kubectl/promtool and reading rendered objects. */
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { REPO_ROOT } from "../../support/cli-process.js";

export const CHART = path.join(REPO_ROOT, "charts/switchboard");

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function run(
  cmd: string,
  args: readonly string[],
  input = "",
  env: NodeJS.ProcessEnv = {},
): Promise<RunResult> {
  const child = spawn(cmd, [...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: "pipe" });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin.end(input);
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

export async function mustRun(
  cmd: string,
  args: readonly string[],
  input = "",
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  const r = await run(cmd, args, input, env);
  if (r.code !== 0) {
    throw new Error(`${path.basename(cmd)} ${args.join(" ")} exited with ${r.code}:\n${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}

/** Runs helm with a private home: nothing read from or written to the user's ~/.config/helm. */
export function helmRunner(binDir: string, home: string, kubeconfig?: string) {
  return (...args: string[]): Promise<RunResult> =>
    run(path.join(binDir, "helm"), args, "", {
      HELM_CACHE_HOME: path.join(home, "cache"),
      HELM_CONFIG_HOME: path.join(home, "config"),
      HELM_DATA_HOME: path.join(home, "data"),
      ...(kubeconfig ? { KUBECONFIG: kubeconfig } : {}),
    });
}

export function parseObjects(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered chart`);
  return found;
}
