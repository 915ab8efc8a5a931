/**
 * Teams share one operator and one gateway config: an invalid resource in one namespace holds
 * back only that namespace (it keeps serving its last good config), and a model name claimed
 * across namespaces goes to the namespace that served it first.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSnapshot } from "../../../src/shared/snapshot-format.js";
import type { GatewayConfig } from "../../../src/shared/schemas/gateway-config.js";
import {
  applyObject,
  condition,
  getCustom,
  prepareCluster,
  providerManifest,
  RELEASE_NAMESPACE,
  routeManifest,
  secretManifest,
  startTestOperator,
  uniqueName,
  waitFor,
  waitForCondition,
  type KubeClients,
  type TestOperator,
} from "./operator-kit.js";

const teamA = uniqueName("team-a");
const teamB = uniqueName("team-b");
const snapshot = { namespace: RELEASE_NAMESPACE, name: uniqueName("gateway-config") };
let admin: KubeClients;
let operator: TestOperator;

async function published(): Promise<GatewayConfig> {
  const head = await admin.core.readNamespacedSecret(snapshot);
  return readSnapshot(head, snapshot.namespace, admin.core);
}

const routeOf = async (id: string) => (await published()).routes.find((r) => r.id === id);

function chatRoute(namespace: string, targetModel: string, extra: Record<string, unknown> = {}) {
  return routeManifest(namespace, "chat", {
    model: `chat-${namespace}`,
    targets: [{ provider: "p", model: targetModel }],
    ...extra,
  });
}

function keyedProvider(namespace: string, name: string, models: string[]) {
  return providerManifest(namespace, name, {
    type: "openai-compatible",
    endpoint: "http://127.0.0.1:9/v1",
    credentials: { secretRef: { name: "key", key: "apiKey" } },
    models: models.map((model) => ({ name: model })),
  });
}

async function refusedNamespaces(): Promise<number> {
  const text = await (await fetch(`${operator.metricsUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("switchboard_operator_refused_namespaces "));
  return Number(line?.split(" ")[1]);
}

beforeAll(async () => {
  const cluster = await prepareCluster([teamA, teamB]);
  admin = cluster.admin;
  for (const namespace of [teamA, teamB]) {
    // Keys share no 8-character run with resource names: fragments of a key are redacted everywhere.
    const apiKey = `sk-${namespace === teamA ? "Kq7Rw2" : "Vb9Tz4"}-0123456789abcdef`;
    await applyObject(admin, secretManifest(namespace, "key", { apiKey }));
    await applyObject(admin, keyedProvider(namespace, "p", ["gpt", "mini"]));
    await applyObject(admin, chatRoute(namespace, "gpt"));
  }
  operator = await startTestOperator(cluster.operatorKubeconfig, {
    namespace: [teamA, teamB],
    snapshot,
    lease: { name: uniqueName("lease"), leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 },
  });
  for (const namespace of [teamA, teamB])
    await waitForCondition(() => getCustom(admin, "llmroutes", namespace, "chat"), "Ready", "True");
}, 600_000);

afterAll(async () => {
  await operator?.close();
  for (const namespace of [teamA, teamB])
    await admin?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe("namespaces are compiled apart", () => {
  it("holds back only the namespace with an invalid route; another team's change goes live", async () => {
    const before = await routeOf(`${teamA}/chat`);
    // A tokens-per-minute limit over models with no output bound: the compiler refuses it.
    await applyObject(
      admin,
      chatRoute(teamA, "gpt", {
        consumers: [{ name: "app", serviceAccount: { name: "app" }, limits: { tokensPerMinute: 1000 } }],
      }),
    );
    const broken = await waitForCondition(
      () => getCustom(admin, "llmroutes", teamA, "chat"),
      "Ready",
      "False",
    );
    expect(condition(broken, "Ready")).toMatchObject({ status: "False", reason: "UnboundedOutput" });

    await applyObject(admin, chatRoute(teamB, "mini"));
    await waitFor(async () => (await routeOf(`${teamB}/chat`))?.targets[0]?.model === "mini");
    await waitForCondition(() => getCustom(admin, "llmroutes", teamB, "chat"), "Ready", "True");
    // team-a keeps serving its last good route meanwhile.
    expect(await routeOf(`${teamA}/chat`)).toEqual(before);
    expect(await refusedNamespaces()).toBe(1);

    // A valid change in the held-back namespace says why it is not live.
    await applyObject(admin, keyedProvider(teamA, "other", ["gpt"]));
    const waiting = await waitFor(async () => {
      const p = await getCustom(admin, "llmproviders", teamA, "other");
      return condition(p, "Ready")?.reason === "ConfigNotPublished" ? p : undefined;
    });
    expect(condition(waiting, "Ready")!.message).toContain(
      `namespace "${teamA}" keeps its last good config because LLMRoute/${teamA}/chat is invalid`,
    );

    await applyObject(admin, chatRoute(teamA, "mini"));
    await waitFor(async () => (await routeOf(`${teamA}/chat`))?.targets[0]?.model === "mini");
    await waitForCondition(() => getCustom(admin, "llmproviders", teamA, "other"), "Ready", "True");
    expect(await refusedNamespaces()).toBe(0);
  });

  it("refuses a model name another namespace already serves, whichever sorts first", async () => {
    // team-a sorts before team-b, but team-b's name was served first.
    await applyObject(admin, chatRoute(teamA, "mini", { aliases: [`chat-${teamB}`] }));
    const conflicted = await waitForCondition(
      () => getCustom(admin, "llmroutes", teamA, "chat"),
      "Ready",
      "False",
    );
    expect(condition(conflicted, "Ready")).toMatchObject({
      reason: "ModelConflict",
      message: `model name "chat-${teamB}" is already served by LLMRoute/${teamB}/chat`,
    });
    const config = await published();
    expect(config.routes.filter((r) => [r.model, ...r.aliases].includes(`chat-${teamB}`))).toEqual([
      expect.objectContaining({ id: `${teamB}/chat` }),
    ]);
    expect(config.routes.find((r) => r.id === `${teamA}/chat`)!.aliases).toEqual([]);
  });
});
