import { Writable } from "node:stream";
import { PatchStrategy, setHeaderOptions, type KubernetesObject } from "@kubernetes/client-node";
import pg from "pg";
import { createLogger } from "../../../src/shared/logging.js";
import { API_GROUP, API_VERSION, GROUP_VERSION } from "../../../src/shared/schemas/common.js";
import type {
  EmbeddingMigrationSpec,
  EmbeddingMigrationStatus,
} from "../../../src/shared/schemas/embedding-migration.js";
import { runWorker } from "../../../src/migration/worker-main.js";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { manifests, OPENAI_KEY } from "../gateway/routing-support.js";
import {
  clientsFor,
  ensureNamespace,
  installCrds,
  testKubeconfigs,
  type KubeClients,
} from "../operator/operator-kit.js";

/** What the fake upstream's embedding model returns: 768 dimensions (nomic-embed-text). */
export const UPSTREAM_DIMENSIONS = 768;
/** Route the migration embeds through (target), and one whose residency policy forbids the upstream. */
export const TARGET_ROUTE = "embed-v2";
export const EU_ONLY_ROUTE = "embed-eu-only";
/** A route to the same model that admits one consumer, by API key. */
export const KEYED_ROUTE = "embed-keyed";
export const CONSUMER_KEY = "mk-7Qz3xVw9Lp2Rt5Yh";

export interface MigrationWorld {
  upstream: OpenAiFake;
  gateway: TestGateway;
  admin: KubeClients;
  namespace: string;
  close(): Promise<void>;
}

/** A fake OpenAI upstream in us-east-1, a real gateway in front of it, the CRDs and a namespace. */
export async function startMigrationWorld(namespace: string): Promise<MigrationWorld> {
  const upstream = await startOpenAiFake({ apiKey: OPENAI_KEY });
  const gateway = await startTestGateway({
    ...manifests(
      [
        {
          name: "us-embedder",
          type: "openai",
          endpoint: upstream.baseUrl,
          models: [{ name: "nomic", providerModel: "nomic-embed-text", kind: "embedding" }],
          dataResidency: { boundary: "provider-cloud", region: "us-east-1" },
        },
      ],
      [
        { name: "v2", model: TARGET_ROUTE, targets: [{ provider: "us-embedder", model: "nomic" }] },
        {
          name: "eu-only",
          model: EU_ONLY_ROUTE,
          targets: [{ provider: "us-embedder", model: "nomic" }],
          policy: { dataResidency: { allowedRegions: ["eu-west-1"] } },
        },
      ],
    ),
    "keyed.yaml": [
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "consumer-keys", namespace: "default" },
        stringData: { worker: CONSUMER_KEY },
      },
      {
        apiVersion: GROUP_VERSION,
        kind: "LLMRoute",
        metadata: { name: "keyed", namespace: "default" },
        spec: {
          model: KEYED_ROUTE,
          targets: [{ provider: "us-embedder", model: "nomic" }],
          consumers: [{ name: "migration", apiKeySecretRef: { name: "consumer-keys", key: "worker" } }],
        },
      },
    ]
      .map((doc) => JSON.stringify(doc))
      .join("\n---\n"),
  });
  const admin = clientsFor(testKubeconfigs().admin);
  await installCrds(admin);
  await ensureNamespace(admin, namespace);
  return {
    upstream,
    gateway,
    admin,
    namespace,
    close: async () => {
      await admin.core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await gateway.close();
      await upstream.close();
    },
  };
}

export const TABLE = "kb.chunks";

/** Text of row i: distinct per row, so every vector is checkable against its text. */
export const rowText = (i: number) => `chunk ${i}: notes on topic ${i % 97} for the knowledge base`;

/**
 * kb.chunks(id bigint, body text, embedding real[3]) with `rows` rows whose old "vectors"
 * are [id, 0, 0]: what applications read before the cutover. `bodies` overrides some texts.
 */
export async function seedTable(url: string, rows: number, bodies: Record<number, string | null> = {}) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("DROP SCHEMA IF EXISTS kb CASCADE");
    await client.query("CREATE SCHEMA kb");
    await client.query("CREATE TABLE kb.chunks (id bigint PRIMARY KEY, body text, embedding real[])");
    await client.query(
      `INSERT INTO kb.chunks (id, body, embedding)
       SELECT i, 'chunk ' || i || ': notes on topic ' || (i % 97) || ' for the knowledge base', ARRAY[i, 0, 0]::real[]
         FROM generate_series(1, $1::int) AS i`,
      [rows],
    );
    for (const [id, body] of Object.entries(bodies)) {
      await client.query("UPDATE kb.chunks SET body = $2 WHERE id = $1", [Number(id), body]);
    }
  } finally {
    await client.end();
  }
}

export interface StoredRow {
  id: number;
  body: string | null;
  embedding: number[] | null;
  [column: string]: unknown;
}

export async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Column names of kb.chunks, in order. */
export async function columnsOf(url: string): Promise<string[]> {
  const rows = await query<{ name: string; type: string }>(
    url,
    `SELECT attname AS name FROM pg_attribute WHERE attrelid = 'kb.chunks'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
  );
  return rows.map((r) => r.name);
}

export async function columnType(url: string, column: string): Promise<string> {
  const rows = await query<{ type: string }>(
    url,
    `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'kb.chunks'::regclass AND attname = $1`,
    [column],
  );
  return rows[0]?.type ?? "<none>";
}

export function migrationSpec(overrides: Partial<EmbeddingMigrationSpec> = {}): EmbeddingMigrationSpec {
  return {
    source: { route: "embed-v1", dimensions: 3 },
    target: { route: TARGET_ROUTE, dimensions: UPSTREAM_DIMENSIONS },
    route: "embed",
    store: {
      postgres: {
        connectionSecretRef: { name: "kb-store", key: "url" },
        table: TABLE,
        idColumn: "id",
        textColumn: "body",
        targetColumn: "embedding_next",
        readColumn: "embedding",
        retiredColumn: "embedding_previous",
      },
    },
    batchSize: 64,
    ...overrides,
  };
}

const PLURAL = "embeddingmigrations";

export interface MigrationObject extends KubernetesObject {
  spec: EmbeddingMigrationSpec;
  status?: EmbeddingMigrationStatus;
}

export async function createMigration(world: MigrationWorld, name: string, spec: EmbeddingMigrationSpec) {
  return (await world.admin.custom.createNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: world.namespace,
    plural: PLURAL,
    body: { apiVersion: GROUP_VERSION, kind: "EmbeddingMigration", metadata: { name }, spec },
  })) as MigrationObject;
}

export async function getMigration(world: MigrationWorld, name: string): Promise<MigrationObject> {
  return (await world.admin.custom.getNamespacedCustomObject({
    group: API_GROUP,
    version: API_VERSION,
    namespace: world.namespace,
    plural: PLURAL,
    name,
  })) as MigrationObject;
}

/** A spec edit, as `kubectl patch --type merge` makes it. */
export async function patchSpec(world: MigrationWorld, name: string, spec: Partial<EmbeddingMigrationSpec>) {
  await world.admin.custom.patchNamespacedCustomObject(
    {
      group: API_GROUP,
      version: API_VERSION,
      namespace: world.namespace,
      plural: PLURAL,
      name,
      body: { spec },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

/**
 * Plays the operator's part of the cutover (no operator runs in these tests): when the worker asks
 * for the query route (phase CuttingOver), reports it switched, as an operator that watches no
 * gateways does once it published the snapshot. `hold` delays that answer. Stops with the worker.
 */
export function switchQueryRouteWhenAsked(
  world: MigrationWorld,
  name: string,
  done: Promise<unknown>,
  hold: () => boolean = () => false,
): void {
  let finished = false;
  void done.finally(() => (finished = true));
  void (async () => {
    while (!finished) {
      const status = await getMigration(world, name)
        .then((m) => m.status)
        .catch(() => undefined);
      if (status?.phase === "CuttingOver" && !status.queryRoute && !hold()) {
        await world.admin.custom.patchNamespacedCustomObjectStatus(
          {
            group: API_GROUP,
            version: API_VERSION,
            namespace: world.namespace,
            plural: PLURAL,
            name,
            body: {
              apiVersion: GROUP_VERSION,
              kind: "EmbeddingMigration",
              metadata: { name, namespace: world.namespace },
              status: {
                queryRoute: {
                  switchedAt: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
                  configVersion: "test",
                },
              },
            },
            fieldManager: "test-operator",
            force: true,
          },
          setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
}

/**
 * The worker in-process (what `switchboard migrate` runs), with fast status and spec polling; the
 * test stands in for the operator at the query-route switch (switchQueryRouteWhenAsked).
 */
export function runWorkerInProcess(
  world: MigrationWorld,
  name: string,
  storeUrl: string,
  options: { model?: string; signal?: AbortSignal; holdRouteSwitch?: () => boolean; apiKey?: string } = {},
) {
  const lines: string[] = [];
  const logger = createLogger("migrate", {
    destination: new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  });
  const exit = runWorker({
    kubeConfig: world.admin.kc,
    namespace: world.namespace,
    name,
    gatewayUrl: world.gateway.url,
    embeddingModel: options.model ?? TARGET_ROUTE,
    inputPricePer1M: 0.02,
    storeUrl,
    gatewayApiKey: options.apiKey,
    logger,
    signal: options.signal ?? new AbortController().signal,
    timing: { statusIntervalMs: 300, pollIntervalMs: 200, routeSwitchPollMs: 100 },
  });
  switchQueryRouteWhenAsked(world, name, exit, options.holdRouteSwitch);
  return { exit, logs: () => lines.join("") };
}

/** Texts the upstream was asked to embed, in order, over every request. */
export function embeddedTexts(upstream: OpenAiFake): string[] {
  return upstream.requests
    .filter((r) => r.url.endsWith("/embeddings"))
    .flatMap((r) => (r.json as { input: string[] }).input);
}

export function readyCondition(status: EmbeddingMigrationStatus | undefined) {
  return status?.conditions?.find((c) => c.type === "Ready");
}
