/**
 * Helpers for the suite on a real cluster (npm run test:cluster): kubectl and helm as a user
 * runs them, against SWITCHBOARD_CLUSTER_KUBECONFIG, and Node scripts run inside a pod of the
 * project image, so requests reach Services the way in-cluster clients do (on any cluster).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { ensureControlPlaneBinaries } from "../../support/control-plane.js";
import { REPO_ROOT } from "../../support/cli-process.js";

const execFileAsync = promisify(execFile);

export const KUBECONFIG = process.env.SWITCHBOARD_CLUSTER_KUBECONFIG ?? "";
/** The project image as the cluster knows it; pulled never. */
export const IMAGE = process.env.SWITCHBOARD_IMAGE || "switchboard:local";
/** PostgreSQL with pgvector (PGlite) for the migration test (scripts/cluster/images.sh store). */
export const STORE_IMAGE = process.env.SWITCHBOARD_STORE_IMAGE || "switchboard-e2e-store:local";
export const CHART = path.join(REPO_ROOT, "charts", "switchboard");
export const RELEASE = "switchboard";
export const RELEASE_NAMESPACE = "switchboard-system";

/** The chart's own pod and container securityContext, for the suite's pods too. */
export const POD_SECURITY = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
export const CONTAINER_SECURITY = {
  runAsUser: 65532,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};

let binDir: Promise<string> | undefined;
function bin(name: string): Promise<string> {
  binDir ??= ensureControlPlaneBinaries();
  return binDir.then((dir) => path.join(dir, name));
}

let helmHome: Promise<string> | undefined;

/** Runs kubectl; rejects with its stderr on a non-zero exit. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const child = execFileAsync(await bin("kubectl"), ["--kubeconfig", KUBECONFIG, ...args], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return (await child).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(" ")}: ${e.stderr || e.message}`);
  }
}

export async function helm(args: string[]): Promise<string> {
  helmHome ??= mkdtemp(path.join(tmpdir(), "switchboard-helm-"));
  const home = await helmHome;
  const { stdout } = await execFileAsync(await bin("helm"), ["--kubeconfig", KUBECONFIG, ...args], {
    env: {
      ...process.env,
      HELM_CACHE_HOME: path.join(home, "cache"),
      HELM_CONFIG_HOME: path.join(home, "config"),
      HELM_DATA_HOME: path.join(home, "data"),
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/**
 * `helm upgrade --install` of the chart with the built image (pulled never), waiting for every pod.
 * Values set by an earlier call are kept (--reuse-values), so the suite's files share one release.
 */
export async function installRelease(...sets: string[]): Promise<void> {
  const image = [IMAGE.slice(0, IMAGE.lastIndexOf(":")), IMAGE.slice(IMAGE.lastIndexOf(":") + 1)];
  await helm([
    "upgrade",
    "--install",
    RELEASE,
    CHART,
    "-n",
    RELEASE_NAMESPACE,
    "--create-namespace",
    "--reuse-values",
    ...[`image.repository=${image[0]}`, `image.tag=${image[1]}`, "image.pullPolicy=Never", ...sets].flatMap(
      (value) => ["--set", value],
    ),
    "--wait",
    "--timeout",
    "5m",
  ]);
}

export async function apply(...objects: object[]): Promise<void> {
  await kubectl(["apply", "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));
}

export async function getJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, "-o", "json"])) as T;
}

export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 120_000,
  intervalMs = 1_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** An ESM Node script run with `node -e` in a container of the project image. */
export async function nodeInPod(namespace: string, pod: string, script: string): Promise<string> {
  return kubectl(["exec", "-n", namespace, pod, "--", "node", "--input-type=module", "-e", script]);
}

/** kubectl as a running child process (a watch, a long exec). */
export async function spawnKubectl(args: string[]): Promise<ChildProcess> {
  return spawn(await bin("kubectl"), ["--kubeconfig", KUBECONFIG, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** nodeInPod, as a running child process. */
export async function spawnNodeInPod(namespace: string, pod: string, script: string): Promise<ChildProcess> {
  return spawnKubectl(["exec", "-n", namespace, pod, "--", "node", "--input-type=module", "-e", script]);
}

/** A Deployment of the project image with the chart's securityContext. */
export function imageDeployment(
  namespace: string,
  name: string,
  container: { args?: string[]; command?: string[]; port?: number; writableTmp?: boolean; image?: string },
  serviceAccountName?: string,
): object {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          serviceAccountName,
          securityContext: POD_SECURITY,
          terminationGracePeriodSeconds: 5,
          containers: [
            {
              name,
              image: container.image ?? IMAGE,
              imagePullPolicy: "Never",
              command: container.command,
              args: container.args,
              ports: container.port ? [{ containerPort: container.port }] : undefined,
              readinessProbe: container.port
                ? { tcpSocket: { port: container.port }, periodSeconds: 1 }
                : undefined,
              securityContext: CONTAINER_SECURITY,
              resources: { requests: { cpu: "10m", memory: "64Mi" } },
              volumeMounts: container.writableTmp ? [{ name: "tmp", mountPath: "/tmp" }] : undefined,
            },
          ],
          volumes: container.writableTmp ? [{ name: "tmp", emptyDir: {} }] : undefined,
        },
      },
    },
  };
}

export function service(namespace: string, name: string, port: number): object {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace },
    spec: { selector: { app: name }, ports: [{ port, targetPort: port }] },
  };
}

export async function clusterIp(namespace: string, name: string): Promise<string> {
  return (
    await kubectl(["get", "service", "-n", namespace, name, "-o", "jsonpath={.spec.clusterIP}"])
  ).trim();
}

/** Name of the one Running, Ready pod of a Deployment's `app` label. */
export async function podOf(namespace: string, app: string): Promise<string> {
  return waitFor(`a Ready pod of ${namespace}/${app}`, async () => {
    const pods = await getJson<{ items: Pod[] }>(["get", "pods", "-n", namespace, "-l", `app=${app}`]);
    return pods.items.find((p) => !p.metadata.deletionTimestamp && isReady(p))?.metadata.name;
  });
}

export interface Pod {
  metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: {
    securityContext?: Record<string, unknown>;
    containers: Array<{ name: string; securityContext?: Record<string, unknown>; resources?: unknown }>;
  };
  status: { phase: string; conditions?: Array<{ type: string; status: string }> };
}

export function isReady(pod: Pod): boolean {
  return pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}
