/**
 * Vitest globalSetup for integration and e2e tests (docs/development.md).
 *
 * - Without KUBECONFIG in the environment it starts a local test control plane
 *   (test/support/control-plane.ts: etcd + kube-apiserver on loopback, built
 *   by test/controlplane/build.sh on first use) and stops it after the run.
 * - With KUBECONFIG set (a kind cluster, say) tests use that cluster; the
 *   operator identity is SWITCHBOARD_TEST_OPERATOR_KUBECONFIG when given,
 *   else a token kubeconfig for the ServiceAccount
 *   switchboard-system/switchboard-operator (created if missing).
 *
 * Tests read the kubeconfig paths with `inject("switchboardKubeconfig")` /
 * `inject("switchboardOperatorKubeconfig")`, or from the env vars
 * SWITCHBOARD_TEST_KUBECONFIG / SWITCHBOARD_TEST_OPERATOR_KUBECONFIG, which
 * are set here before the test workers start (testKubeconfigsFromEnv()).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import {
  OPERATOR_NAMESPACE,
  OPERATOR_SERVICE_ACCOUNT,
  startControlPlane,
  type ControlPlane,
} from "./control-plane.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Admin kubeconfig path (system:masters on the local control plane). */
    switchboardKubeconfig: string;
    /** Kubeconfig path for the operator's ServiceAccount identity (RBAC only). */
    switchboardOperatorKubeconfig: string;
    /** "local": the harness's own control plane; "external": $KUBECONFIG. */
    switchboardClusterSource: "local" | "external";
    /** API server URL, e.g. https://127.0.0.1:40123. */
    switchboardServer: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const saved = {
    admin: process.env.SWITCHBOARD_TEST_KUBECONFIG,
    operator: process.env.SWITCHBOARD_TEST_OPERATOR_KUBECONFIG,
  };
  let cp: ControlPlane | undefined;
  let tempDir: string | undefined;
  let admin: string;
  let operator: string;
  let server: string;
  let source: "local" | "external";

  const external = process.env.KUBECONFIG;
  if (external) {
    source = "external";
    admin = external;
    const kc = new KubeConfig();
    kc.loadFromDefault();
    server = kc.getCurrentCluster()?.server ?? "";
    if (saved.operator) {
      operator = saved.operator;
    } else {
      tempDir = await mkdtemp(join(tmpdir(), "switchboard-kube-"));
      operator = await writeOperatorTokenKubeconfig(kc, join(tempDir, "operator.kubeconfig"));
    }
  } else {
    source = "local";
    cp = await startControlPlane();
    admin = cp.adminKubeconfigPath;
    operator = cp.operatorKubeconfigPath;
    server = cp.server;
  }

  process.env.SWITCHBOARD_TEST_KUBECONFIG = admin;
  process.env.SWITCHBOARD_TEST_OPERATOR_KUBECONFIG = operator;
  project.provide("switchboardKubeconfig", admin);
  project.provide("switchboardOperatorKubeconfig", operator);
  project.provide("switchboardClusterSource", source);
  project.provide("switchboardServer", server);

  return async () => {
    restoreEnv("SWITCHBOARD_TEST_KUBECONFIG", saved.admin);
    restoreEnv("SWITCHBOARD_TEST_OPERATOR_KUBECONFIG", saved.operator);
    await cp?.stop();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  };
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/**
 * On an external cluster: ensure the operator's ServiceAccount exists, ask
 * for a 2 h token and write a kubeconfig that authenticates with it (same
 * user and groups as the in-cluster operator).
 */
async function writeOperatorTokenKubeconfig(kc: KubeConfig, path: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const ignoreConflict = (err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  };
  await core.createNamespace({ body: { metadata: { name: OPERATOR_NAMESPACE } } }).catch(ignoreConflict);
  await core
    .createNamespacedServiceAccount({
      namespace: OPERATOR_NAMESPACE,
      body: { metadata: { name: OPERATOR_SERVICE_ACCOUNT } },
    })
    .catch(ignoreConflict);
  const tr = await core.createNamespacedServiceAccountToken({
    name: OPERATOR_SERVICE_ACCOUNT,
    namespace: OPERATOR_NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: 7200 } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error("TokenRequest for the operator ServiceAccount returned no token");
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("KUBECONFIG has no current cluster");
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "switchboard-test",
        cluster: {
          server: cluster.server,
          ...(cluster.caData ? { "certificate-authority-data": cluster.caData } : {}),
          ...(cluster.caFile ? { "certificate-authority": cluster.caFile } : {}),
          ...(cluster.skipTLSVerify ? { "insecure-skip-tls-verify": true } : {}),
          ...(cluster.tlsServerName ? { "tls-server-name": cluster.tlsServerName } : {}),
        },
      },
    ],
    users: [{ name: "operator", user: { token } }],
    contexts: [{ name: "operator", context: { cluster: "switchboard-test", user: "operator" } }],
    "current-context": "operator",
  };
  await writeFile(path, JSON.stringify(kubeconfig, null, 2) + "\n", { mode: 0o600 });
  return path;
}
