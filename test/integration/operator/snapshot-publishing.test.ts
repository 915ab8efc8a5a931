/**
 * The snapshot Secrets on a real API server, written under the operator's RBAC and read under
 * the gateway's: configs too large for one Secret are split and reassembled, old parts are
 * cleaned up, an unchanged config is not rewritten, a corrupt snapshot is refused while the old
 * one keeps serving, and 409 Conflicts (on the snapshot Secret and on the Lease) are handled.
 */
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { CoordinationV1Api, PatchStrategy, setHeaderOptions, type CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigStore } from "../../../src/gateway/config/config-store.js";
import { KubernetesConfigSource } from "../../../src/gateway/config/kubernetes-config-source.js";
import { LeaderElector } from "../../../src/operator/leader-election.js";
import { LABEL_ROLE, LABEL_SNAPSHOT, MANIFEST_KEY } from "../../../src/shared/snapshot-format.js";
import { SnapshotPublisher } from "../../../src/operator/snapshot/snapshot-publisher.js";
import { createLogger } from "../../../src/shared/logging.js";
import {
  clientsFor,
  installChartRbac,
  serviceAccountKubeconfig,
  RELEASE_NAMESPACE,
  testKubeconfigs,
  uniqueName,
  waitFor,
  type KubeClients,
} from "./operator-kit.js";
import { configWithRoutes } from "../../support/routes-config.js";

const quiet = createLogger("test", { destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const ref = { namespace: RELEASE_NAMESPACE, name: uniqueName("snap") };
let admin: KubeClients;
let operatorClients: KubeClients;
let gatewayStore: ConfigStore;
let source: KubernetesConfigSource;

async function parts(): Promise<Array<{ name: string; owners: string[] }>> {
  const list = await admin.core.listNamespacedSecret({
    namespace: ref.namespace,
    labelSelector: `${LABEL_SNAPSHOT}=${ref.name},${LABEL_ROLE}=part`,
  });
  return list.items.map((s) => ({
    name: s.metadata!.name!,
    owners: (s.metadata!.ownerReferences ?? []).map((o) => o.uid),
  }));
}

beforeAll(async () => {
  const kubeconfigs = testKubeconfigs();
  admin = clientsFor(kubeconfigs.admin);
  await installChartRbac(admin);
  operatorClients = clientsFor(kubeconfigs.operator);
  gatewayStore = new ConfigStore();
}, 600_000);

afterAll(() => source?.close());

describe("snapshot publishing", () => {
  const publisher = () => new SnapshotPublisher(operatorClients.core, ref, quiet, 2048);

  it("splits a large config into parts the gateway reassembles, and cleans up parts of old versions", async () => {
    const p = publisher();
    const first = configWithRoutes(300, "one");
    const result = await p.publish(first);
    expect(result).toMatchObject({ written: true, version: first.version });
    expect(result.parts).toBeGreaterThan(2);

    // The gateway reads under its own identity: get/list/watch Secrets in the release namespace only.
    const gateway = await serviceAccountKubeconfig(
      admin,
      RELEASE_NAMESPACE,
      "switchboard-gateway",
      path.join(tmpdir(), `${ref.name}.kubeconfig`),
    );
    source = new KubernetesConfigSource(gateway.kc, ref, gatewayStore, quiet);
    expect(await source.start()).toMatchObject({ applied: true, version: first.version });
    expect(gatewayStore.current!.config.routes).toHaveLength(300);

    const head = await admin.core.readNamespacedSecret(ref);
    expect((await parts()).every((part) => part.owners.includes(head.metadata!.uid!))).toBe(true);

    const second = configWithRoutes(300, "two");
    await p.publish(second);
    await waitFor(() => gatewayStore.current?.config.version === second.version);
    const third = configWithRoutes(300, "three");
    await p.publish(third);
    await waitFor(() => gatewayStore.current?.config.version === third.version);
    const names = (await parts()).map((part) => part.name);
    // The replaced version's parts stay (a gateway may be reading them); older ones are gone.
    expect(names.some((n) => n.includes(second.version))).toBe(true);
    expect(names.some((n) => n.includes(third.version))).toBe(true);
    expect(names.some((n) => n.includes(first.version))).toBe(false);
  });

  it("does not rewrite an unchanged config, also after an operator restart", async () => {
    const before = (await admin.core.readNamespacedSecret(ref)).metadata!.resourceVersion;
    const restarted = publisher();
    const current = await restarted.readPublished();
    expect(current?.version).toBe(gatewayStore.current!.config.version);
    expect((await restarted.publish(current!)).written).toBe(false);
    expect((await admin.core.readNamespacedSecret(ref)).metadata!.resourceVersion).toBe(before);
  });

  it("refuses a corrupt snapshot at the gateway and keeps serving the previous one", async () => {
    const serving = gatewayStore.current!.config.version;
    const head = await admin.core.readNamespacedSecret(ref);
    // A new version whose bytes do not match the manifest's checksum.
    const manifest = JSON.parse(Buffer.from(head.data![MANIFEST_KEY]!, "base64").toString()) as {
      sha256: string;
      version: string;
    };
    manifest.sha256 = "0".repeat(64);
    manifest.version = "0123456789abcdef";
    await admin.core.patchNamespacedSecret(
      {
        ...ref,
        body: {
          metadata: { annotations: { "switchboard.dev/config-version": manifest.version } },
          data: { [MANIFEST_KEY]: Buffer.from(JSON.stringify(manifest)).toString("base64") },
        },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await waitFor(() => gatewayStore.lastError?.includes("sha256"));
    expect(gatewayStore.current!.config.version).toBe(serving);

    // The next good publish heals it.
    const next = configWithRoutes(10, "healed");
    await publisher().publish(next);
    await waitFor(() => gatewayStore.current?.config.version === next.version);
  });

  it("retries the head write after a 409 Conflict from a concurrent writer", async () => {
    let replaces = 0;
    const racing = new Proxy(operatorClients.core, {
      get(target, prop, receiver) {
        if (prop === "replaceNamespacedSecret") {
          return async (param: Parameters<CoreV1Api["replaceNamespacedSecret"]>[0]) => {
            replaces++;
            if (replaces === 1) {
              // Someone else updates the Secret between our read and our write.
              await admin.core.patchNamespacedSecret(
                { ...ref, body: { metadata: { annotations: { "example.com/touched": "yes" } } } },
                setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
              );
            }
            return target.replaceNamespacedSecret(param);
          };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const p = new SnapshotPublisher(racing, ref, quiet, 2048);
    await p.readPublished();
    const next = configWithRoutes(5, "after-conflict");
    expect((await p.publish(next)).written).toBe(true);
    expect(replaces).toBe(2);
    await waitFor(() => gatewayStore.current?.config.version === next.version);
    expect((await admin.core.readNamespacedSecret(ref)).metadata!.annotations!["example.com/touched"]).toBe(
      "yes",
    );
  });
});

describe("leader election on a real Lease", () => {
  it("loses leadership on a 409 Conflict when another writer updates the Lease", async () => {
    const name = uniqueName("lease");
    const leases = operatorClients.kc.makeApiClient(CoordinationV1Api);
    const adminLeases = admin.kc.makeApiClient(CoordinationV1Api);
    let interfere = false;
    const racing = new Proxy(leases, {
      get(target, prop, receiver) {
        if (prop === "replaceNamespacedLease") {
          return async (param: Parameters<CoordinationV1Api["replaceNamespacedLease"]>[0]) => {
            if (interfere) {
              interfere = false;
              await adminLeases.patchNamespacedLease(
                {
                  namespace: RELEASE_NAMESPACE,
                  name,
                  body: { metadata: { annotations: { "example.com/touched": "yes" } } },
                },
                setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
              );
            }
            return target.replaceNamespacedLease(param);
          };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const elector = new LeaderElector({
      leases: racing,
      namespace: RELEASE_NAMESPACE,
      name,
      identity: "a",
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 200,
      logger: quiet,
    });
    await elector.acquire();
    const holding = elector.holdLeadership();
    await new Promise((r) => setTimeout(r, 500));
    expect(elector.isLeader).toBe(true);
    interfere = true;
    expect(await holding).toMatch(/another candidate holds the lease \(conflict\)/);
    expect(elector.isLeader).toBe(false);
  });
});
