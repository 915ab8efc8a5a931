/**
 * Shared helpers of the operator's integration and e2e tests: kube clients for the admin and the
 * operator identity, CRDs and the chart's RBAC applied to the API server, an in-process operator
 * with captured logs, and small polling helpers.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { parse, parseAllDocuments } from "yaml";
import {
  startOperator,
  type LeaderElectionSettings,
  type OperatorOptions,
  type RunningOperator,
} from "../../../src/operator/operator-main.js";
import { createLogger } from "../../../src/shared/logging.js";
import { API_GROUP, API_VERSION, GROUP_VERSION } from "../../../src/shared/schemas/common.js";
import { runCli, type CliProcess } from "../../support/cli-process.js";
import { ensureControlPlaneBinaries, OPERATOR_NAMESPACE } from "../../support/control-plane.js";

export const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");
export const RELEASE_NAMESPACE = OPERATOR_NAMESPACE;
/** Release name under which the chart's operator ServiceAccount is the test control plane's operator identity. */
export const RELEASE_NAME = "switchboard";
const FIELD_MANAGER = "switchboard-operator-tests";
const execFileAsync = promisify(execFile);

export interface KubeClients {
  kubeconfigPath: string;
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  objects: KubernetesObjectApi;
}

export function clientsFor(kubeconfigPath: string): KubeClients {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    kubeconfigPath,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

/** The kubeconfigs the global setup provides (the shared control plane, or $KUBECONFIG). */
export function testKubeconfigs(): { admin: string; operator: string } {
  const admin = process.env.SWITCHBOARD_TEST_KUBECONFIG;
  const operator = process.env.SWITCHBOARD_TEST_OPERATOR_KUBECONFIG;
  if (!admin || !operator)
    throw new Error("run through the vitest integration project: its global setup starts the control plane");
  return { admin, operator };
}

/**
 * The usual start of an operator test: admin clients, the CRDs and the chart's RBAC installed,
 * and the test's namespaces created. Uses the global setup's control plane unless given others.
 */
export async function prepareCluster(
  namespaces: readonly string[],
  kubeconfigs: { admin: string; operator: string } = testKubeconfigs(),
): Promise<{ admin: KubeClients; operatorKubeconfig: string }> {
  const admin = clientsFor(kubeconfigs.admin);
  await installCrds(admin);
  await installChartRbac(admin);
  for (const namespace of namespaces) await ensureNamespace(admin, namespace);
  return { admin, operatorKubeconfig: kubeconfigs.operator };
}

/** Applies crds/*.yaml server-side (idempotent across test files) and waits until they are Established. */
export async function installCrds(admin: KubeClients): Promise<void> {
  const api = admin.kc.makeApiClient(ApiextensionsV1Api);
  const dir = path.join(REPO_ROOT, "crds");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml"));
  if (files.length === 0) throw new Error("crds/ is empty: run npm run crds");
  for (const file of files) {
    const crd = parse(await readFile(path.join(dir, file), "utf8")) as V1CustomResourceDefinition;
    await api.patchCustomResourceDefinition(
      { name: crd.metadata!.name!, body: crd, fieldManager: FIELD_MANAGER, force: true },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    );
    await waitFor(async () => {
      const current = await api.readCustomResourceDefinition({ name: crd.metadata!.name! });
      return current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    }, 30_000);
  }
}

/**
 * Applies the chart's RBAC templates as `helm template` renders them with default values (every
 * namespace watched), so the operator identity has exactly what the chart grants.
 */
export async function installChartRbac(admin: KubeClients): Promise<void> {
  await ensureNamespace(admin, RELEASE_NAMESPACE);
  // gateway.yaml (Deployment and all) creates the gateway's ServiceAccount; only that is needed here.
  await applyObject(admin, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: `${RELEASE_NAME}-gateway`, namespace: RELEASE_NAMESPACE },
  } as KubernetesObject);
  const helm = path.join(await ensureControlPlaneBinaries(), "helm");
  const helmHome = await mkdtemp(path.join(tmpdir(), "switchboard-helm-"));
  try {
    const { stdout } = await execFileAsync(
      helm,
      [
        "template",
        RELEASE_NAME,
        path.join(REPO_ROOT, "charts/switchboard"),
        "--namespace",
        RELEASE_NAMESPACE,
        "--show-only",
        "templates/operator-rbac.yaml",
        "--show-only",
        "templates/gateway-rbac.yaml",
      ],
      // A private helm home: nothing read from or written to the user's ~/.config/helm.
      {
        env: {
          ...process.env,
          HELM_CACHE_HOME: path.join(helmHome, "cache"),
          HELM_CONFIG_HOME: path.join(helmHome, "config"),
          HELM_DATA_HOME: path.join(helmHome, "data"),
        },
      },
    );
    for (const doc of parseAllDocuments(stdout)) {
      const object = doc.toJS() as KubernetesObject | null;
      if (object) await applyObject(admin, object);
    }
  } finally {
    await rm(helmHome, { recursive: true, force: true });
  }
}

export async function ensureNamespace(admin: KubeClients, name: string): Promise<void> {
  await admin.core.createNamespace({ body: { metadata: { name } } }).catch((err: { code?: number }) => {
    if (err.code !== 409) throw err;
  });
}

/** Server-side apply of any object, as `kubectl apply --server-side --force-conflicts` does. */
export async function applyObject(clients: KubeClients, object: KubernetesObject): Promise<KubernetesObject> {
  return clients.objects.patch(
    object,
    undefined,
    undefined,
    FIELD_MANAGER,
    true,
    PatchStrategy.ServerSideApply,
  );
}

function customManifest(kind: "LLMProvider" | "LLMRoute" | "EmbeddingMigration") {
  return (
    namespace: string,
    name: string,
    spec: Record<string, unknown>,
  ): KubernetesObject & { spec: unknown } => ({
    apiVersion: GROUP_VERSION,
    kind,
    metadata: { name, namespace },
    spec,
  });
}

export const providerManifest = customManifest("LLMProvider");
export const routeManifest = customManifest("LLMRoute");
export const migrationManifest = customManifest("EmbeddingMigration");

export function secretManifest(
  namespace: string,
  name: string,
  stringData: Record<string, string>,
): KubernetesObject {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, stringData } as KubernetesObject;
}

export interface CustomResource extends KubernetesObject {
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    conditions?: Array<{
      type: string;
      status: string;
      reason: string;
      message: string;
      observedGeneration?: number;
      lastTransitionTime: string;
    }>;
    [key: string]: unknown;
  };
}

export async function getCustom(
  clients: KubeClients,
  plural: "llmproviders" | "llmroutes" | "embeddingmigrations",
  namespace: string,
  name: string,
): Promise<CustomResource | undefined> {
  try {
    return (await clients.custom.getNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural,
      name,
    })) as CustomResource;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

export function condition(resource: CustomResource | undefined, type: string) {
  return resource?.status?.conditions?.find((c) => c.type === type);
}

/** Polls until `check` returns a truthy value; returns it. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as T;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `condition not met within ${timeoutMs} ms${lastError ? `: ${String((lastError as Error).message ?? lastError)}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `switchboard operator` as a process: the flags every test sets, then `extra`. */
export function runOperatorCli(options: {
  kubeconfig: string;
  namespaces: readonly string[];
  /** namespace/name of the snapshot Secret. */
  snapshot: string;
  leaderElectionId: string;
  metricsPort: number;
  extra?: string[];
}): CliProcess {
  return runCli([
    "operator",
    "--kubeconfig",
    options.kubeconfig,
    "--namespaces",
    options.namespaces.join(","),
    "--snapshot-secret",
    options.snapshot,
    "--leader-election-id",
    options.leaderElectionId,
    "--metrics-port",
    String(options.metricsPort),
    ...(options.extra ?? []),
  ]);
}

/**
 * `switchboard gateway` serving the operator's snapshot Secret (namespace/name) as the chart's
 * gateway ServiceAccount (`kubeconfig`), without TokenReview. `adminHost` defaults to loopback;
 * gateways found through an EndpointSlice listen on all interfaces.
 */
export function runGatewayCli(options: {
  snapshot: string;
  kubeconfig: string;
  port: number;
  adminPort: number;
  adminHost?: string;
}): CliProcess {
  return runCli([
    "gateway",
    "--kubernetes-snapshot",
    options.snapshot,
    "--kubeconfig",
    options.kubeconfig,
    "--no-token-review",
    "--port",
    String(options.port),
    "--admin-host",
    options.adminHost ?? "127.0.0.1",
    "--admin-port",
    String(options.adminPort),
  ]);
}

/** Polls until the resource `read` returns has condition `type` at `status`; returns the resource. */
export function waitForCondition(
  read: () => Promise<CustomResource | undefined>,
  type: string,
  status: "True" | "False" | "Unknown",
  timeoutMs?: number,
  intervalMs?: number,
): Promise<CustomResource> {
  return waitFor(
    async () => {
      const resource = await read();
      return condition(resource, type)?.status === status ? resource : undefined;
    },
    timeoutMs,
    intervalMs,
  );
}

export interface TestOperator extends RunningOperator {
  logs: string[];
}

/**
 * Starts the operator in this process under the given identity, capturing its JSON log lines:
 * watching the given namespaces, metrics on a free port, leader election on a Lease in the release
 * namespace.
 */
export async function startTestOperator(
  kubeconfigPath: string,
  options: {
    namespace: string | string[];
    snapshot: OperatorOptions["snapshot"];
    lease: Omit<LeaderElectionSettings, "namespace">;
    migrationJobs?: OperatorOptions["migrationJobs"];
  },
): Promise<TestOperator> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const operator = await startOperator({
    scope: { allNamespaces: false, namespaces: [options.namespace].flat() },
    snapshot: options.snapshot,
    metrics: { host: "127.0.0.1", port: 0 },
    leaderElection: { namespace: RELEASE_NAMESPACE, ...options.lease },
    migrationJobs: options.migrationJobs,
    kubeConfig: kc,
    logger: createLogger("operator", { level: "debug", destination: sink }),
  });
  return Object.assign(operator, { logs });
}

/**
 * A kubeconfig that authenticates as a ServiceAccount through a TokenRequest, the way a pod's
 * projected token does: the gateway's identity, limited to what the chart's RBAC grants it.
 */
export async function serviceAccountKubeconfig(
  admin: KubeClients,
  namespace: string,
  serviceAccount: string,
  file: string,
): Promise<KubeClients> {
  const token = await admin.core.createNamespacedServiceAccountToken({
    namespace,
    name: serviceAccount,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.kc.getCurrentCluster()!;
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "test",
        cluster: {
          server: cluster.server,
          "certificate-authority-data": cluster.caData,
          "insecure-skip-tls-verify": cluster.skipTLSVerify || undefined,
        },
      },
    ],
    users: [{ name: serviceAccount, user: { token: token.status!.token } }],
    contexts: [{ name: serviceAccount, context: { cluster: "test", user: serviceAccount, namespace } }],
    "current-context": serviceAccount,
  };
  await writeFile(file, JSON.stringify(kubeconfig), { mode: 0o600 });
  return clientsFor(file);
}

/** Runs the control plane's kubectl as `admin`, with `input` on stdin; rejects with its stderr. */
export async function kubectl(admin: KubeClients, args: readonly string[], input = ""): Promise<string> {
  const bin = path.join(await ensureControlPlaneBinaries(), "kubectl");
  const child = execFile(bin, [...args], { env: { ...process.env, KUBECONFIG: admin.kubeconfigPath } });
  child.stdin!.end(input);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: string) => (stdout += d));
  child.stderr!.on("data", (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`kubectl ${args.join(" ")} exited with ${code}: ${stderr.trim()}`);
  return stdout;
}

/** `type/reason` of each Event about the named object, read with kubectl. */
export async function eventsAbout(admin: KubeClients, namespace: string, name: string): Promise<string[]> {
  const out = await kubectl(admin, [
    "get",
    "events",
    "-n",
    namespace,
    "--field-selector",
    `involvedObject.name=${name}`,
    "-o",
    'jsonpath={range .items[*]}{.type}/{.reason}{"\\n"}{end}',
  ]);
  return out.split("\n").filter(Boolean);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
}

/** An address of this machine the API server accepts in an EndpointSlice (it refuses loopback). */
export function endpointAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return undefined;
}

/**
 * A gateway Service in the release namespace for gateways run as local processes: no selector,
 * and one hand-made EndpointSlice per admin port (a slice has one port for all its endpoints), so
 * the operator's --gateway-service finds every gateway's /admin/state. Gateways must listen for
 * admin on `address` (all interfaces when one is found).
 */
export async function applyGatewayService(
  admin: KubeClients,
  name: string,
  adminPorts: readonly number[],
  address = endpointAddress(),
): Promise<void> {
  await applyObject(admin, {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: RELEASE_NAMESPACE },
    spec: { ports: [{ name: "admin", port: 9090 }] },
  } as KubernetesObject);
  for (const [i, port] of adminPorts.entries()) {
    await applyObject(admin, {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: i === 0 ? name : `${name}-${i}`,
        namespace: RELEASE_NAMESPACE,
        labels: { "kubernetes.io/service-name": name },
      },
      addressType: "IPv4",
      ports: [{ name: "admin", port, protocol: "TCP" }],
      endpoints: [{ addresses: [address ?? "127.0.0.1"], conditions: { ready: true } }],
    } as KubernetesObject);
  }
}
