/**
 * The test control plane harness itself: a real etcd + kube-apiserver, RBAC
 * enforced for the operator identity, and an API server restart that keeps
 * clients working and etcd data intact.
 *
 * This file always starts its own control plane (it restarts the API server,
 * which must not disturb other test files sharing the global one).
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiException, AuthorizationV1Api, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { OPERATOR_USER, startControlPlane, type ControlPlane } from "../../support/control-plane.js";

function client(kubeconfigPath: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

describe("test control plane", () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    // A cold build of the binaries takes far longer than a hook timeout.
    cp = await startControlPlane();
  }, 3_600_000);

  afterAll(async () => {
    await cp?.stop();
  }, 60_000);

  it("serves a real API over TLS with certificates the kubeconfigs trust", async () => {
    expect(cp.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { stdout } = await cp.kubectl(["version", "-o", "json"]);
    const version = JSON.parse(stdout) as { serverVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+/);
    const kubeconfig = JSON.parse(await readFile(cp.operatorKubeconfigPath, "utf8")) as {
      clusters: { cluster: { server: string } }[];
    };
    expect(kubeconfig.clusters[0]?.cluster.server).toBe(cp.server);
  });

  it("creates a namespace as admin, forbids the operator until RBAC allows it, and survives an API server restart", async () => {
    const admin = client(cp.adminKubeconfigPath);
    const operator = client(cp.operatorKubeconfigPath);
    const name = `cp-test-${Date.now().toString(36)}`;

    await admin.createNamespace({ body: { metadata: { name, labels: { "switchboard.test": "yes" } } } });
    await admin.createNamespacedSecret({
      namespace: name,
      body: { metadata: { name: "s" }, stringData: { k: "v" } },
    });

    // The operator is authenticated (it can ask who it is) but has no grants.
    const operatorKc = new KubeConfig();
    operatorKc.loadFromFile(cp.operatorKubeconfigPath);
    const review = await operatorKc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb: "list", resource: "secrets" } } },
    });
    expect(review.status?.allowed).toBe(false);

    const forbidden = await operator.listSecretForAllNamespaces().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(forbidden).toBeInstanceOf(ApiException);
    expect((forbidden as ApiException<unknown>).code).toBe(403);
    expect(String((forbidden as ApiException<unknown>).body)).toContain(OPERATOR_USER);

    // Grant it through RBAC only, and the same call succeeds.
    await cp.kubectl([
      "create",
      "clusterrole",
      "cp-test-secrets-reader",
      "--verb=list",
      "--resource=secrets",
    ]);
    await cp.kubectl([
      "create",
      "clusterrolebinding",
      "cp-test-secrets-reader",
      "--clusterrole=cp-test-secrets-reader",
      "--serviceaccount=switchboard-system:switchboard-operator",
    ]);
    await expect
      .poll(
        async () =>
          operator.listSecretForAllNamespaces().then(
            (l) => l.items.some((s) => s.metadata?.namespace === name),
            () => false,
          ),
        { timeout: 10_000, interval: 200 },
      )
      .toBe(true);

    // Restart: same port and certs, etcd keeps the data, the same clients reconnect.
    const serverBefore = cp.server;
    await cp.restartApiServer();
    expect(cp.server).toBe(serverBefore);

    const ns = await admin.readNamespace({ name });
    expect(ns.metadata?.labels?.["switchboard.test"]).toBe("yes");
    const secrets = await operator.listSecretForAllNamespaces();
    expect(secrets.items.some((s) => s.metadata?.namespace === name && s.metadata?.name === "s")).toBe(true);

    // Clients see the outage while it is stopped and recover after a start.
    await cp.stopApiServer();
    await expect(admin.readNamespace({ name })).rejects.toThrow();
    await cp.startApiServer();
    expect((await admin.readNamespace({ name })).metadata?.name).toBe(name);
  }, 180_000);
});
