/**
 * An LLMProvider's and an LLMRoute's whole life on a real API server, cert-manager style, with
 * the operator running under the chart's RBAC only: created → conditions Unknown → Ready →
 * Secret deleted → CredentialsResolved=False (SecretNotFound) → restored and rotated → Ready →
 * a broken route refused while the last good snapshot keeps serving → fixed → deleted.
 */
import { AuthorizationV1Api, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSnapshot } from "../../../src/shared/snapshot-format.js";
import type { GatewayConfig } from "../../../src/shared/schemas/gateway-config.js";
import {
  applyObject,
  clientsFor,
  condition,
  getCustom,
  kubectl,
  prepareCluster,
  providerManifest,
  RELEASE_NAMESPACE,
  routeManifest,
  secretManifest,
  startTestOperator,
  testKubeconfigs,
  uniqueName,
  waitFor,
  waitForCondition,
  type CustomResource,
  type KubeClients,
  type TestOperator,
} from "./operator-kit.js";

const FIRST_KEY = "sk-Q7vfirst-0123456789abcdef";
const ROTATED_KEY = "sk-Z3wrotated-0123456789abcdef";

let admin: KubeClients;
let operator: TestOperator;
const namespace = uniqueName("lifecycle");
const snapshot = { namespace: RELEASE_NAMESPACE, name: uniqueName("gateway-config") };
const readyHistory = new Map<string, string[]>();
let stopWatch: AbortController | undefined;
let stopped = false;

async function published(): Promise<GatewayConfig> {
  const head = await admin.core.readNamespacedSecret(snapshot);
  return readSnapshot(head, snapshot.namespace, admin.core);
}

function providerSpec(secretName = "openai-key") {
  return {
    type: "openai-compatible",
    endpoint: "http://127.0.0.1:9/v1",
    credentials: { secretRef: { name: secretName, key: "apiKey" } },
    models: [{ name: "gpt" }, { name: "mini" }],
  };
}

/** The Ready statuses seen so far, once the watch has delivered at least `count` (it may lag a GET). */
async function readyHistoryOf(name: string, count: number): Promise<string[]> {
  await waitFor(() => (readyHistory.get(name)?.length ?? 0) >= count, 5_000).catch(() => undefined);
  return readyHistory.get(name) ?? [];
}

const provider = (name: string) => getCustom(admin, "llmproviders", namespace, name);
const route = (name: string) => getCustom(admin, "llmroutes", namespace, name);

beforeAll(async () => {
  const cluster = await prepareCluster([namespace]);
  admin = cluster.admin;

  // Every status the API server stores for our providers, in order (rewatching if the watch drops).
  let resourceVersion: string | undefined;
  const watchProviders = async (): Promise<void> => {
    if (stopped) return;
    stopWatch = await new Watch(admin.kc).watch(
      `/apis/llm.switchboard.dev/v1alpha1/namespaces/${namespace}/llmproviders`,
      { resourceVersion },
      (_type, object: CustomResource) => {
        resourceVersion = object.metadata?.resourceVersion;
        const ready = condition(object, "Ready")?.status;
        if (!ready) return;
        const history = readyHistory.get(object.metadata!.name!) ?? [];
        if (history.at(-1) !== ready) history.push(ready);
        readyHistory.set(object.metadata!.name!, history);
      },
      () => void setTimeout(() => void watchProviders(), 100),
    );
  };
  await watchProviders();

  operator = await startTestOperator(cluster.operatorKubeconfig, {
    namespace,
    snapshot,
    lease: {
      name: uniqueName("lease"),
      leaseDurationMs: 4000,
      renewDeadlineMs: 3000,
      retryPeriodMs: 500,
    },
  });
}, 600_000);

afterAll(async () => {
  stopped = true;
  stopWatch?.abort();
  await operator?.close();
  await admin?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe("resource lifecycle under the chart's RBAC", () => {
  it("starts a new provider Unknown, then makes it Ready once the snapshot carries it", async () => {
    await applyObject(admin, secretManifest(namespace, "openai-key", { apiKey: FIRST_KEY }));
    await applyObject(admin, providerManifest(namespace, "openai", providerSpec()));
    const ready = await waitForCondition(() => provider("openai"), "Ready", "True");
    expect(await readyHistoryOf("openai", 2)).toEqual(["Unknown", "True"]);
    expect(ready.status!.observedGeneration).toBe(ready.metadata!.generation);
    for (const type of ["Ready", "CredentialsResolved", "Healthy"]) {
      expect(condition(ready, type)!.observedGeneration).toBe(ready.metadata!.generation);
    }
    expect(condition(ready, "CredentialsResolved")).toMatchObject({
      status: "True",
      reason: "SecretResolved",
    });
    expect(condition(ready, "Healthy")).toMatchObject({ status: "Unknown", reason: "NoGatewayState" });
    const config = await published();
    expect(ready.status!.configVersion).toBe(config.version);
    expect(config.providers.find((p) => p.id === `${namespace}/openai`)!.credentials).toEqual({
      mode: "apiKey",
      apiKey: FIRST_KEY,
    });
  });

  it("makes a route Ready with resolved refs", async () => {
    await applyObject(
      admin,
      routeManifest(namespace, "chat", {
        model: `chat-${namespace}`,
        targets: [{ provider: "openai", model: "gpt" }],
      }),
    );
    const r = await waitForCondition(() => route("chat"), "Ready", "True");
    expect(condition(r, "ResolvedRefs")).toMatchObject({ status: "True", reason: "AllRefsResolved" });
    expect(r.status).toMatchObject({
      // kubectl get's STRATEGY column shows the default when spec.strategy is unset.
      strategy: "priority",
      targetCount: 1,
      targets: [{ provider: "openai", model: "gpt", health: "unknown" }],
    });
    expect((await published()).routes.map((x) => x.id)).toContain(`${namespace}/chat`);
  });

  it("reports a deleted Secret as SecretNotFound on that provider only, with an Event", async () => {
    await applyObject(admin, secretManifest(namespace, "other-key", { apiKey: "sk-other-0123456789" }));
    await applyObject(admin, providerManifest(namespace, "other", providerSpec("other-key")));
    await waitForCondition(() => provider("other"), "Ready", "True");

    await admin.core.deleteNamespacedSecret({ namespace, name: "openai-key" });
    const broken = await waitForCondition(() => provider("openai"), "CredentialsResolved", "False");
    expect(condition(broken, "CredentialsResolved")!.reason).toBe("SecretNotFound");
    expect(condition(broken, "CredentialsResolved")!.message).toContain(
      `Secret "openai-key" not found in namespace "${namespace}"`,
    );
    expect(condition(broken, "Ready")).toMatchObject({ status: "False", reason: "SecretNotFound" });
    expect(condition(await provider("other"), "Ready")!.status).toBe("True");
    // The gateway keeps the provider and fails its calls clearly; other providers are untouched.
    const config = await published();
    expect(config.providers.find((p) => p.id === `${namespace}/openai`)!.credentials).toMatchObject({
      mode: "unresolved",
      reason: "SecretNotFound",
    });
    expect(config.providers.find((p) => p.id === `${namespace}/other`)!.credentials.mode).toBe("apiKey");

    const events = await waitFor(async () => {
      const list = await admin.core.listNamespacedEvent({
        namespace,
        fieldSelector: "involvedObject.name=openai",
      });
      return list.items.some((e) => e.reason === "SecretNotFound") ? list.items : undefined;
    });
    const warning = events.find((e) => e.reason === "SecretNotFound")!;
    expect(warning.type).toBe("Warning");
    expect(warning.involvedObject.kind).toBe("LLMProvider");
    expect(warning.message).toContain('"openai-key"');
  });

  it("picks up the restored (and rotated) Secret without a restart", async () => {
    await applyObject(admin, secretManifest(namespace, "openai-key", { apiKey: ROTATED_KEY }));
    const fixed = await waitFor(async () => {
      const p = await provider("openai");
      return condition(p, "CredentialsResolved")?.status === "True" &&
        condition(p, "Ready")?.status === "True"
        ? p
        : undefined;
    });
    expect(condition(fixed, "CredentialsResolved")!.reason).toBe("SecretResolved");
    expect((await published()).providers.find((p) => p.id === `${namespace}/openai`)!.credentials).toEqual({
      mode: "apiKey",
      apiKey: ROTATED_KEY,
    });
    expect(await readyHistoryOf("openai", 4)).toEqual(["Unknown", "True", "False", "True"]);
  });

  /** Waits until the route's status describes its current generation with Ready=False. */
  const notReady = (name: string) =>
    waitFor(async () => {
      const r = await route(name);
      return r?.status?.observedGeneration === r?.metadata?.generation &&
        condition(r, "Ready")?.status === "False"
        ? r
        : undefined;
    });

  it("leaves a target naming a missing model out of its route, without holding anything back", async () => {
    await applyObject(
      admin,
      routeManifest(namespace, "chat", {
        model: `chat-${namespace}`,
        targets: [{ provider: "openai", model: "no-such-model" }],
      }),
    );
    const broken = await notReady("chat");
    expect(condition(broken, "Ready")!.reason).toBe("ModelNotFound");
    expect(condition(broken, "Ready")!.message).toContain("the route has no target left");
    expect(condition(broken, "ResolvedRefs")).toMatchObject({ status: "False", reason: "ModelNotFound" });
    expect(condition(broken, "ResolvedRefs")!.message).toContain('has no model "no-such-model"');
    expect(broken.status).toMatchObject({ targetCount: 0 });
    await waitFor(async () => {
      const served = (await published()).routes.find((r) => r.id === `${namespace}/chat`);
      return served?.generation === broken.metadata!.generation && served?.targets.length === 0;
    });
  });

  it("refuses an invalid route, keeps the last good snapshot serving, and recovers when fixed", async () => {
    await applyObject(
      admin,
      routeManifest(namespace, "chat", {
        model: `chat-${namespace}`,
        targets: [{ provider: "openai", model: "gpt" }],
      }),
    );
    await waitForCondition(() => route("chat"), "Ready", "True");
    const before = await published();
    // A tokens-per-minute limit over models with no output bound: the compiler refuses it.
    await applyObject(
      admin,
      routeManifest(namespace, "chat", {
        model: `chat-${namespace}`,
        targets: [{ provider: "openai", model: "gpt" }],
        consumers: [{ name: "app", serviceAccount: { name: "app" }, limits: { tokensPerMinute: 1000 } }],
      }),
    );
    const broken = await notReady("chat");
    expect(condition(broken, "Ready")!.reason).toBe("UnboundedOutput");
    expect((await published()).version).toBe(before.version);

    // A valid change elsewhere is not live while the compile is refused: its Ready says why.
    await applyObject(
      admin,
      providerManifest(namespace, "other", { ...providerSpec("other-key"), models: [{ name: "gpt" }] }),
    );
    const blocked = await waitFor(async () => {
      const p = await provider("other");
      return condition(p, "Ready")?.reason === "ConfigNotPublished" ? p : undefined;
    });
    expect(condition(blocked, "Ready")!.message).toContain(`LLMRoute/${namespace}/chat`);

    await applyObject(
      admin,
      routeManifest(namespace, "chat", {
        model: `chat-${namespace}`,
        targets: [{ provider: "openai", model: "mini" }],
      }),
    );
    await waitForCondition(() => route("chat"), "Ready", "True");
    await waitForCondition(() => provider("other"), "Ready", "True");
    const after = await published();
    expect(after.version).not.toBe(before.version);
    expect(after.routes.find((r) => r.id === `${namespace}/chat`)!.targets[0]!.model).toBe("mini");
  });

  it("drops a deleted provider from the snapshot and reports the dangling route reference", async () => {
    await admin.custom.deleteNamespacedCustomObject({
      group: "llm.switchboard.dev",
      version: "v1alpha1",
      namespace,
      plural: "llmproviders",
      name: "other",
    });
    await waitFor(async () => !(await published()).providers.some((p) => p.id === `${namespace}/other`));
    await applyObject(
      admin,
      routeManifest(namespace, "dangling", {
        model: `dangling-${namespace}`,
        targets: [{ provider: "other", model: "gpt" }],
      }),
    );
    const dangling = await waitForCondition(() => route("dangling"), "ResolvedRefs", "False");
    expect(condition(dangling, "ResolvedRefs")!.reason).toBe("ProviderNotFound");
    await admin.custom.deleteNamespacedCustomObject({
      group: "llm.switchboard.dev",
      version: "v1alpha1",
      namespace,
      plural: "llmroutes",
      name: "dangling",
    });
    await waitFor(
      async () =>
        condition(await route("chat"), "Ready")?.status === "True" && (await published()).routes.length > 0,
    );
  });

  it("reports a data-residency policy that admits none of the targets, and which targets it admits", async () => {
    await applyObject(
      admin,
      routeManifest(namespace, "eu-only", {
        model: `eu-only-${namespace}`,
        targets: [{ provider: "openai", model: "gpt" }],
        policy: { dataResidency: { allowedBoundaries: ["customer-cloud"], allowedRegions: ["eu-west-1"] } },
      }),
    );
    await kubectl(admin, [
      "wait",
      "--for=condition=Ready=false",
      "llmroute/eu-only",
      "-n",
      namespace,
      "--timeout=30s",
    ]);
    const refused = await waitFor(async () => {
      const r = await route("eu-only");
      return r?.status?.targets ? r : undefined;
    });
    expect(condition(refused, "Ready")).toMatchObject({
      reason: "ResidencyExcludesAllTargets",
      message:
        "spec.policy.dataResidency (boundaries customer-cloud; regions eu-west-1) admits none of the targets: " +
        `${namespace}/openai/gpt (no spec.dataResidency); every call is refused with 403. ` +
        "Widen the policy, or declare spec.dataResidency on a provider that meets it",
    });
    expect(
      await kubectl(admin, [
        "get",
        "llmroute",
        "eu-only",
        "-n",
        namespace,
        "-o",
        "jsonpath={.status.targets[*].allowed}",
      ]),
    ).toBe("false");

    // The provider declares where it runs: the policy admits it.
    await applyObject(
      admin,
      providerManifest(namespace, "openai", {
        ...providerSpec(),
        dataResidency: { boundary: "customer-cloud", region: "eu-west-1" },
      }),
    );
    await kubectl(admin, [
      "wait",
      "--for=condition=Ready",
      "llmroute/eu-only",
      "-n",
      namespace,
      "--timeout=30s",
    ]);
    await waitFor(async () => {
      const allowed = await kubectl(admin, [
        "get",
        "llmroute",
        "eu-only",
        "-n",
        namespace,
        "-o",
        "jsonpath={.status.targets[*].allowed}",
      ]);
      return allowed === "true";
    });
    await admin.custom.deleteNamespacedCustomObject({
      group: "llm.switchboard.dev",
      version: "v1alpha1",
      namespace,
      plural: "llmroutes",
      name: "eu-only",
    });
  });

  it("runs with least privilege: Secrets are writable only in the release namespace", async () => {
    const asOperator = clientsFor(testKubeconfigs().operator).kc.makeApiClient(AuthorizationV1Api);
    const can = async (verb: string, resource: string, ns: string) =>
      (
        await asOperator.createSelfSubjectAccessReview({
          body: { spec: { resourceAttributes: { verb, resource, namespace: ns } } },
        })
      ).status!.allowed;
    expect(await can("create", "secrets", RELEASE_NAMESPACE)).toBe(true);
    expect(await can("watch", "secrets", namespace)).toBe(true);
    expect(await can("create", "secrets", namespace)).toBe(false);
    expect(await can("delete", "secrets", namespace)).toBe(false);
    expect(await can("update", "leases", namespace)).toBe(false);
  });

  it("never puts a credential into status, events, logs or metrics", async () => {
    const secrets = [FIRST_KEY, ROTATED_KEY, "sk-other-0123456789"];
    const statuses = JSON.stringify([
      await admin.custom.listNamespacedCustomObject({
        group: "llm.switchboard.dev",
        version: "v1alpha1",
        namespace,
        plural: "llmproviders",
      }),
      await admin.custom.listNamespacedCustomObject({
        group: "llm.switchboard.dev",
        version: "v1alpha1",
        namespace,
        plural: "llmroutes",
      }),
    ]);
    const events = JSON.stringify(
      (await admin.core.listNamespacedEvent({ namespace })).items.map((e) => e.message),
    );
    const snapshotEvents = JSON.stringify(
      (await admin.core.listNamespacedEvent({ namespace: RELEASE_NAMESPACE })).items.map((e) => e.message),
    );
    const metrics = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
    expect(metrics).toContain("switchboard_operator_reconcile_duration_seconds");
    expect(metrics).toContain("switchboard_operator_workqueue_depth");
    const logs = operator.logs.join("\n");
    expect(logs).toContain("published gateway config snapshot");
    for (const secret of secrets) {
      for (const [where, text] of Object.entries({ statuses, events, snapshotEvents, metrics, logs })) {
        expect(text.includes(secret), `${where} contains a credential`).toBe(false);
      }
    }
  });
});
