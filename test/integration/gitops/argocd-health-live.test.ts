/**
 * The chart's Argo CD health checks, run in Lua 5.1 (the Lua Argo CD embeds) on objects as the
 * real API server returns them: healthy, degraded, edited but not yet reconciled, being deleted,
 * and every EmbeddingMigration phase. Status is written through the status subresource the way
 * the operator writes it, so each object has the API server's own metadata (generation,
 * deletionTimestamp).
 */
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_GROUP, API_VERSION } from "../../../src/shared/schemas/common.js";
import { MIGRATION_PHASES } from "../../../src/shared/schemas/embedding-migration.js";
import { argoHealth } from "../../support/argocd-health.js";
import {
  applyObject,
  getCustom,
  kubectl,
  migrationManifest,
  prepareCluster,
  providerManifest,
  routeManifest,
  uniqueName,
  waitFor,
  type KubeClients,
} from "../operator/operator-kit.js";

type Plural = "llmproviders" | "llmroutes" | "embeddingmigrations";
const HEALTH_KIND = {
  llmproviders: "llmprovider",
  llmroutes: "llmroute",
  embeddingmigrations: "embeddingmigration",
} as const;
const MERGE_PATCH = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const HOLD = "test.switchboard.dev/hold";
const namespace = uniqueName("argocd-health");
let admin: KubeClients;

const providerSpec = (interval = "30s") => ({
  type: "openai-compatible",
  endpoint: "http://127.0.0.1:9/v1",
  credentials: { none: {} },
  models: [{ name: "gpt" }],
  healthCheck: { interval },
});
const routeSpec = (model = "gpt") => ({ model: `argo-${namespace}`, targets: [{ provider: "p", model }] });
const migrationSpec = (batchSize = 64) => ({
  source: { provider: "p", model: "small", dimensions: 1536 },
  target: { provider: "p", model: "large", dimensions: 1536 },
  route: `embed-${namespace}`,
  batchSize,
  store: {
    postgres: {
      connectionSecretRef: { name: "kb-store", key: "url" },
      table: "documents",
      idColumn: "id",
      textColumn: "body",
      targetColumn: "embedding_next",
      readColumn: "embedding",
      retiredColumn: "embedding_old",
    },
  },
});

function condition(type: string, status: string, reason: string, message: string, generation: number) {
  return {
    type,
    status,
    reason,
    message,
    observedGeneration: generation,
    lastTransitionTime: "2026-12-03T00:00:00Z",
  };
}

async function writeStatus(plural: Plural, name: string, status: (generation: number) => object) {
  const generation = (await getCustom(admin, plural, namespace, name))!.metadata!.generation!;
  await admin.custom.patchNamespacedCustomObjectStatus(
    { group: API_GROUP, version: API_VERSION, namespace, plural, name, body: { status: status(generation) } },
    MERGE_PATCH,
  );
}

/** The health Argo CD computes for the object as the API server returns it now. */
async function liveHealth(plural: Plural, name: string) {
  return argoHealth(HEALTH_KIND[plural], await getCustom(admin, plural, namespace, name));
}

/** Marks the object deleted while a finalizer holds it, checks it reads Terminating, then lets it go. */
async function expectTerminating(plural: Plural, kind: string, name: string) {
  await kubectl(admin, [
    "patch",
    kind,
    name,
    "-n",
    namespace,
    "--type=merge",
    "-p",
    JSON.stringify({ metadata: { finalizers: [HOLD] } }),
  ]);
  await kubectl(admin, ["delete", kind, name, "-n", namespace, "--wait=false"]);
  await waitFor(async () => (await getCustom(admin, plural, namespace, name))?.metadata?.deletionTimestamp);
  expect(await liveHealth(plural, name)).toEqual({ status: "Progressing", message: "Terminating" });
  await kubectl(admin, [
    "patch",
    kind,
    name,
    "-n",
    namespace,
    "--type=merge",
    "-p",
    '{"metadata":{"finalizers":null}}',
  ]);
}

beforeAll(async () => {
  ({ admin } = await prepareCluster([namespace]));
}, 600_000);

afterAll(async () => {
  await admin?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe("Argo CD health checks in Lua 5.1 on live objects", () => {
  it("LLMProvider: Healthy, Degraded with the health reason, Progressing when edited, Terminating", async () => {
    await applyObject(admin, providerManifest(namespace, "p", providerSpec()));
    const published = (g: number) =>
      condition("Ready", "True", "Published", "the published gateway config carries this generation", g);
    await writeStatus("llmproviders", "p", (g) => ({
      observedGeneration: g,
      health: "healthy",
      circuit: "closed",
      conditions: [
        published(g),
        condition("Healthy", "True", "Healthy", "upstream healthy: closed circuit", g),
      ],
    }));
    expect(await liveHealth("llmproviders", "p")).toEqual({
      status: "Healthy",
      message: "the published gateway config carries this generation",
    });

    const open =
      "upstream unhealthy: open circuit, 3 consecutive failures (across 1 gateway); circuit open for gpt";
    await writeStatus("llmproviders", "p", (g) => ({
      observedGeneration: g,
      health: "unhealthy",
      circuit: "open",
      conditions: [published(g), condition("Healthy", "False", "CircuitOpen", open, g)],
    }));
    expect(await liveHealth("llmproviders", "p")).toEqual({
      status: "Degraded",
      message: `CircuitOpen: ${open}`,
    });

    await writeStatus("llmproviders", "p", (g) => ({
      observedGeneration: g,
      health: "unknown",
      conditions: [
        condition("Ready", "False", "SecretNotFound", 'Secret "k" not found in namespace "x"', g),
        condition("Healthy", "Unknown", "NotServed", "the gateways do not serve this provider yet", g),
      ],
    }));
    expect(await liveHealth("llmproviders", "p")).toEqual({
      status: "Degraded",
      message: 'SecretNotFound: Secret "k" not found in namespace "x"',
    });

    await applyObject(admin, providerManifest(namespace, "p", providerSpec("10s")));
    expect(await liveHealth("llmproviders", "p")).toEqual({
      status: "Progressing",
      message: "The operator has not observed the latest spec yet",
    });
    await expectTerminating("llmproviders", "llmprovider", "p");
  });

  it("LLMRoute: Healthy, Degraded with its reason, Progressing when edited, Terminating", async () => {
    await applyObject(admin, routeManifest(namespace, "r", routeSpec()));
    await writeStatus("llmroutes", "r", (g) => ({
      observedGeneration: g,
      conditions: [
        condition("Ready", "True", "Published", "the published gateway config carries this generation", g),
      ],
    }));
    expect((await liveHealth("llmroutes", "r")).status).toBe("Healthy");
    const gone =
      'LLMProvider "p" not found in namespace "x" (or it is invalid); the route has no target left';
    await writeStatus("llmroutes", "r", (g) => ({
      observedGeneration: g,
      conditions: [condition("Ready", "False", "ProviderNotFound", gone, g)],
    }));
    expect(await liveHealth("llmroutes", "r")).toEqual({
      status: "Degraded",
      message: `ProviderNotFound: ${gone}`,
    });
    await applyObject(admin, routeManifest(namespace, "r", routeSpec("mini")));
    expect((await liveHealth("llmroutes", "r")).status).toBe("Progressing");
    await expectTerminating("llmroutes", "llmroute", "r");
  });

  it("EmbeddingMigration: every phase, an edit after success, and deletion", async () => {
    await applyObject(admin, migrationManifest(namespace, "m", migrationSpec()));
    expect(await liveHealth("embeddingmigrations", "m")).toEqual({
      status: "Progressing",
      message: "Pending",
    });
    const expected: Record<string, string> = {
      Pending: "Progressing",
      Planning: "Progressing",
      Running: "Progressing",
      AwaitingCutover: "Progressing",
      CuttingOver: "Progressing",
      Paused: "Suspended",
      Succeeded: "Healthy",
      Failed: "Degraded",
    };
    for (const phase of MIGRATION_PHASES) {
      await writeStatus("embeddingmigrations", "m", (g) => ({
        observedGeneration: g,
        phase,
        progress: { total: 10, done: 5, failed: 0 },
      }));
      expect(await liveHealth("embeddingmigrations", "m"), phase).toMatchObject({ status: expected[phase] });
    }
    await writeStatus("embeddingmigrations", "m", (g) => ({
      observedGeneration: g,
      phase: "Succeeded",
      progress: { total: 10, done: 10, failed: 0 },
    }));
    expect(await liveHealth("embeddingmigrations", "m")).toEqual({
      status: "Healthy",
      message: "Migrated 10/10",
    });

    // Edited after it succeeded: not Healthy until the operator has looked at the new spec.
    await applyObject(admin, migrationManifest(namespace, "m", migrationSpec(32)));
    expect(await liveHealth("embeddingmigrations", "m")).toEqual({
      status: "Progressing",
      message: "The operator has not observed the latest spec yet",
    });
    await expectTerminating("embeddingmigrations", "embeddingmigration", "m");
  });
});
