/**
 * The API server goes away mid-watch (restart, and a longer outage): the operator's informers
 * and the gateway's snapshot watch recover on their own and changes made afterwards still flow
 * through to status and to the gateway. Owns its control plane, since it restarts the API server.
 */
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigStore } from "../../../src/gateway/config/config-store.js";
import { KubernetesConfigSource } from "../../../src/gateway/config/kubernetes-config-source.js";
import { createLogger } from "../../../src/shared/logging.js";
import { startControlPlane, type ControlPlane } from "../../support/control-plane.js";
import {
  applyObject,
  clientsFor,
  getCustom,
  prepareCluster,
  providerManifest,
  RELEASE_NAMESPACE,
  routeManifest,
  startTestOperator,
  uniqueName,
  waitFor,
  waitForCondition,
  type KubeClients,
  type TestOperator,
} from "./operator-kit.js";

let cp: ControlPlane;
let admin: KubeClients;
let operator: TestOperator;
let source: KubernetesConfigSource;
const store = new ConfigStore();
const namespace = uniqueName("restart");
const snapshot = { namespace: RELEASE_NAMESPACE, name: "gateway-config" };

const localProvider = (name: string) =>
  providerManifest(namespace, name, {
    type: "openai-compatible",
    endpoint: "http://127.0.0.1:9/v1",
    credentials: { none: {} },
    models: [{ name: "m" }],
  });

async function readyProvider(name: string, timeoutMs = 30_000): Promise<void> {
  await waitForCondition(
    () => getCustom(admin, "llmproviders", namespace, name),
    "Ready",
    "True",
    timeoutMs,
    200,
  );
}

beforeAll(async () => {
  cp = await startControlPlane();
  ({ admin } = await prepareCluster([namespace], {
    admin: cp.adminKubeconfigPath,
    operator: cp.operatorKubeconfigPath,
  }));
  operator = await startTestOperator(cp.operatorKubeconfigPath, {
    namespace,
    snapshot,
    lease: {
      name: "switchboard-operator",
      leaseDurationMs: 90_000,
      renewDeadlineMs: 60_000,
      retryPeriodMs: 1_000,
    },
  });
  const gatewayKubeconfig = await cp.writeUserKubeconfig(
    "gateway",
    `system:serviceaccount:${RELEASE_NAMESPACE}:switchboard-gateway`,
    ["system:serviceaccounts", "system:authenticated"],
  );
  const quiet = createLogger("gateway", { destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  source = new KubernetesConfigSource(clientsFor(gatewayKubeconfig).kc, snapshot, store, quiet);
  await source.start();
}, 600_000);

afterAll(async () => {
  source?.close();
  await operator?.close();
  await cp?.stop();
}, 60_000);

describe("API server restarts", () => {
  it("recovers from a restart mid-watch and keeps reconciling", async () => {
    await applyObject(admin, localProvider("before"));
    await readyProvider("before");
    await waitFor(() => store.current?.config.providers.some((p) => p.name === "before"));

    await cp.restartApiServer();
    await applyObject(admin, localProvider("after-restart"));
    await readyProvider("after-restart");
    await waitFor(() => store.current?.config.providers.some((p) => p.name === "after-restart"), 30_000);
    expect(operator.isLeader()).toBe(true);
  }, 120_000);

  it("recovers from a longer outage, and the gateway follows route changes made after it", async () => {
    await cp.stopApiServer();
    await new Promise((r) => setTimeout(r, 4_000));
    await cp.startApiServer();
    await applyObject(
      admin,
      routeManifest(namespace, "chat", {
        model: `chat-${namespace}`,
        targets: [{ provider: "after-restart", model: "m" }],
      }),
    );
    await waitForCondition(
      () => getCustom(admin, "llmroutes", namespace, "chat"),
      "Ready",
      "True",
      30_000,
      200,
    );
    await waitFor(() => store.current?.routesByModel.has(`chat-${namespace}`), 30_000);
    const metrics = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
    const restarts = [
      ...metrics.matchAll(/^switchboard_operator_informer_restarts_total\{[^}]*\} (\d+)/gm),
    ].reduce((n, m) => n + Number(m[1]), 0);
    expect(restarts).toBeGreaterThan(0);
    // The leader kept its lease through both outages: each was shorter than its renew deadline
    // (a longer one makes it step down, as client-go does, and the process exits to re-campaign).
    expect(operator.isLeader()).toBe(true);
  }, 120_000);
});
