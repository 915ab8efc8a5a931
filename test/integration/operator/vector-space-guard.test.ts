/**
 * An embedding route never changes vector space silently: through kubectl against a real API
 * server, an edit that moves a route to another embedding model is refused with a condition while
 * the old model keeps serving, and the acknowledge annotation naming the new space lets it through.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { readSnapshot } from "../../../src/shared/snapshot-format.js";
import { ACKNOWLEDGE_VECTOR_SPACE_CHANGE } from "../../../src/operator/vector-space-guard.js";
import {
  applyObject,
  condition,
  eventsAbout,
  getCustom,
  kubectl,
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

const namespace = uniqueName("vector-space");
const snapshot = { namespace: RELEASE_NAMESPACE, name: uniqueName("gateway-config") };
let admin: KubeClients;
let operator: TestOperator;

const route = (model: string) =>
  routeManifest(namespace, "embed", { model: `embed-${namespace}`, targets: [{ provider: "p", model }] });

async function servedModel(): Promise<string | undefined> {
  const head = await admin.core.readNamespacedSecret(snapshot);
  const config = await readSnapshot(head, snapshot.namespace, admin.core);
  return config.routes.find((r) => r.id === `${namespace}/embed`)?.targets[0]?.model;
}

const acknowledge = (space: string) =>
  kubectl(admin, [
    "annotate",
    "llmroute",
    "embed",
    "-n",
    namespace,
    "--overwrite",
    `${ACKNOWLEDGE_VECTOR_SPACE_CHANGE}=${space}`,
  ]);

const readRoute = () => getCustom(admin, "llmroutes", namespace, "embed");

beforeAll(async () => {
  const cluster = await prepareCluster([namespace]);
  admin = cluster.admin;
  await applyObject(
    admin,
    providerManifest(namespace, "p", {
      type: "openai-compatible",
      endpoint: "http://127.0.0.1:9/v1",
      credentials: { none: {} },
      healthCheck: { probe: "none" },
      models: [
        { name: "small", providerModel: "text-embedding-3-small", kind: "embedding", dimensions: 1536 },
        { name: "titan", providerModel: "amazon.titan-embed-text-v2:0", kind: "embedding", dimensions: 1024 },
      ],
    }),
  );
  await kubectl(admin, ["apply", "-f", "-"], stringify(route("small")));
  operator = await startTestOperator(cluster.operatorKubeconfig, {
    namespace,
    snapshot,
    lease: { name: uniqueName("lease"), leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
  });
  await waitForCondition(readRoute, "Ready", "True");
}, 600_000);

afterAll(async () => {
  await operator?.close();
  await admin?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe("vector-space guard", () => {
  it("refuses an edit to another embedding model with a condition; the old model keeps serving", async () => {
    await kubectl(admin, ["apply", "-f", "-"], stringify(route("titan")));
    const refused = await waitFor(async () => {
      const current = await readRoute();
      return condition(current, "Ready")?.reason === "VectorSpaceChangeRefused" ? current : undefined;
    });
    const ready = condition(refused, "Ready")!;
    expect(ready.status).toBe("False");
    expect(ready.observedGeneration).toBe(2);
    expect(refused.status?.observedGeneration).toBe(2);
    expect(ready.message).toContain("serves text-embedding-3-small (1536 dimensions)");
    expect(ready.message).toContain("amazon.titan-embed-text-v2:0 (1024 dimensions)");
    expect(ready.message).toContain(`EmbeddingMigration with spec.route: "embed-${namespace}"`);
    expect(await servedModel()).toBe("small");

    expect(await eventsAbout(admin, namespace, "embed")).toContain("Warning/VectorSpaceChangeRefused");
  });

  it("lets the change through once the route acknowledges exactly the new space", async () => {
    await acknowledge("text-embedding-3-small@512");
    // A different space acknowledged changes nothing.
    await new Promise((r) => setTimeout(r, 1000));
    expect(condition(await readRoute(), "Ready")?.reason).toBe("VectorSpaceChangeRefused");

    await acknowledge("amazon.titan-embed-text-v2:0@1024");
    await waitForCondition(readRoute, "Ready", "True");
    expect(await servedModel()).toBe("titan");
  });
});
