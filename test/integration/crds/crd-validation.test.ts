/**
 * The generated CRDs on a real kube-apiserver: they install and become
 * Established, every CEL rule rejects its bad manifest with the exact message
 * a user sees from `kubectl apply`, the samples and a manifest using every
 * field are accepted unchanged (no server-side defaults), printer columns and
 * `kubectl explain` show what the schemas say. Where the compiler checks the
 * same rule, it must refuse the same manifest on the same field.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import {
  ApiException,
  ApiextensionsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { compile } from "../../../src/shared/compile.js";
import { CRD_DEFINITIONS } from "../../../src/shared/crd/crd-definitions.js";
import { listManifestFiles, parseManifest } from "../../../src/shared/manifests.js";
import { API_GROUP, API_VERSION, GROUP_VERSION } from "../../../src/shared/schemas/common.js";
import {
  TEXT_COMPLETIONS_NEED_TYPE,
  TOKENS_PER_MINUTE_NEEDS_OUTPUT_BOUND,
} from "../../../src/shared/schemas/llm-provider.js";
import {
  ensureControlPlaneBinaries,
  startControlPlane,
  type ControlPlane,
} from "../../support/control-plane.js";
import { clientsFor, ensureNamespace, REPO_ROOT, type KubeClients } from "../operator/operator-kit.js";

const execFileAsync = promisify(execFile);
const SQL_IDENTIFIER =
  "must be a lowercase SQL identifier: a-z, 0-9 and _, not starting with a digit, at most 63 characters";
const WHERE_OPERANDS =
  "set value for eq, ne, lt, le, gt and ge, values for in, and neither for isNull and isNotNull";
const FIELD_MANAGER = "switchboard-crd-test";
const PLURALS = new Map(CRD_DEFINITIONS.map((d) => [d.kind, d.plural]));

let ownControlPlane: ControlPlane | undefined;
let kubectlPath: string;
let admin: KubeClients;
let crdApi: ApiextensionsV1Api;
const namespace = `crd-validation-${Date.now().toString(36)}`;

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(kubectlPath, args, {
    env: { ...process.env, KUBECONFIG: admin.kubeconfigPath },
  });
  return stdout;
}

let tempDir: string | undefined;

async function tempFile(name: string, text: string): Promise<string> {
  tempDir ??= await mkdtemp(path.join(tmpdir(), "switchboard-crd-test-"));
  const file = path.join(tempDir, name);
  await writeFile(file, text);
  return file;
}

function manifest(kind: string, name: string, spec: unknown): KubernetesObject & { spec: unknown } {
  return { apiVersion: GROUP_VERSION, kind, metadata: { name, namespace }, spec };
}

async function applyCustom(object: KubernetesObject): Promise<Record<string, unknown>> {
  return (await admin.custom.patchNamespacedCustomObject(
    {
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: PLURALS.get(object.kind!)!,
      name: object.metadata!.name!,
      body: object,
      fieldManager: FIELD_MANAGER,
      force: true,
    },
    setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
  )) as Record<string, unknown>;
}

/** The API server's Status.message for a refused create, or undefined when it was accepted. */
async function rejectionOf(object: KubernetesObject): Promise<string | undefined> {
  try {
    await admin.custom.createNamespacedCustomObject({
      group: API_GROUP,
      version: API_VERSION,
      namespace,
      plural: PLURALS.get(object.kind!)!,
      body: object,
    });
    return undefined;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body: unknown = typeof err.body === "string" ? JSON.parse(err.body) : err.body;
    expect((body as { code: number }).code).toBe(422);
    return (body as { message: string }).message;
  }
}

beforeAll(async () => {
  const injected = inject("switchboardKubeconfig") as string | undefined;
  if (injected) {
    admin = clientsFor(injected);
    kubectlPath = path.join(await ensureControlPlaneBinaries(), "kubectl");
  } else {
    ownControlPlane = await startControlPlane();
    admin = clientsFor(ownControlPlane.adminKubeconfigPath);
    kubectlPath = path.join(ownControlPlane.binDir, "kubectl");
  }
  crdApi = admin.kc.makeApiClient(ApiextensionsV1Api);

  // Apply the committed files with kubectl, which reads them as YAML 1.1, as users and Helm do.
  await kubectl("apply", "--server-side", "--force-conflicts", "-f", path.join(REPO_ROOT, "crds"));
  await ensureNamespace(admin, namespace);
}, 3_600_000);

afterAll(async () => {
  await admin?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await ownControlPlane?.stop();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
}, 60_000);

describe("CRDs on a real API server", () => {
  it("install and become Established with their names accepted", async () => {
    for (const def of CRD_DEFINITIONS) {
      await expect
        .poll(
          async () => {
            const crd = await crdApi.readCustomResourceDefinition({ name: `${def.plural}.${API_GROUP}` });
            return (crd.status?.conditions ?? [])
              .filter((c) => c.status === "True")
              .map((c) => c.type)
              .sort();
          },
          { timeout: 30_000, interval: 200 },
        )
        .toEqual(["Established", "NamesAccepted"]);
    }
    // Short names and the category resolve through discovery.
    await expect
      .poll(() => kubectl("get", "llmp,llmr,embm", "-n", namespace).catch((e: Error) => e.message), {
        timeout: 30_000,
        interval: 500,
      })
      .toBe("");
    await kubectl("get", "switchboard", "-n", namespace);
  });

  const secretRef = { secretRef: { name: "key", key: "apiKey" } };
  const models = [{ name: "gpt" }];
  const ONE_CREDENTIAL = "spec.credentials must set exactly one of secretRef, workloadIdentity or none";
  const VERTEX_LOCATION = "spec.project and spec.region are required when spec.type is vertex";

  /** A CEL rule the compiler checks with the same message: `field` defaults to the rule's path. */
  const cel = (rulePath: string, value: string, message: string, field = rulePath) => ({
    invalid: `${rulePath}: ${value}: ${message}`,
    compiler: { field, message },
  });
  /** A CEL rule whose zod twin reports the same message on the same field. */
  const sameRule = (field: string, value: string, message: string) => ({
    invalid: `${field}: ${value}: ${message}`,
    compiler: { field, message: `${field}: ${message}` },
  });

  /**
   * Bad manifests, the exact message the API server answers (after `<Kind>.<group> "<name>" is
   * invalid: `), and how the compiler refuses the same one.
   */
  const cases: Array<{
    rule: string;
    kind: string;
    name: string;
    spec: Record<string, unknown>;
    invalid: string;
    compiler: { field: string; message?: string };
  }> = [
    {
      rule: "azure-openai needs an endpoint",
      kind: "LLMProvider",
      name: "azure-no-endpoint",
      spec: { type: "azure-openai", credentials: secretRef, models },
      ...cel("spec.endpoint", "Required value", "spec.endpoint is required when spec.type is azure-openai"),
    },
    {
      rule: "openai-compatible needs an endpoint",
      kind: "LLMProvider",
      name: "compat-no-endpoint",
      spec: { type: "openai-compatible", credentials: { none: {} }, models },
      ...cel(
        "spec.endpoint",
        "Required value",
        "spec.endpoint is required when spec.type is openai-compatible",
      ),
    },
    {
      rule: "text completions only where the API has them",
      kind: "LLMProvider",
      name: "claude-text-completions",
      spec: {
        type: "anthropic",
        credentials: secretRef,
        models: [{ name: "claude", textCompletions: true }],
      },
      ...cel("spec.models", 'Invalid value: "object"', TEXT_COMPLETIONS_NEED_TYPE),
    },
    {
      rule: "credentials need a mode",
      kind: "LLMProvider",
      name: "no-credentials",
      spec: { type: "openai", credentials: {}, models },
      ...cel("spec.credentials", 'Invalid value: "object"', ONE_CREDENTIAL),
    },
    {
      rule: "credentials take only one mode",
      kind: "LLMProvider",
      name: "two-credentials",
      spec: { type: "openai", credentials: { ...secretRef, workloadIdentity: {} }, models },
      ...cel("spec.credentials", 'Invalid value: "object"', ONE_CREDENTIAL),
    },
    {
      rule: "model names are unique",
      kind: "LLMProvider",
      name: "duplicate-models",
      spec: {
        type: "openai",
        credentials: secretRef,
        models: [
          { name: "gpt" },
          { name: "embed", kind: "embedding" },
          { name: "gpt", providerModel: "gpt-4o" },
        ],
      },
      invalid: 'spec.models: Invalid value: "array": spec.models must not list the same model name twice',
      compiler: { field: "spec.models[2].name" },
    },
    {
      rule: "vertex needs a project",
      kind: "LLMProvider",
      name: "vertex-no-project",
      spec: { type: "vertex", region: "us-east5", credentials: { workloadIdentity: {} }, models },
      ...cel("spec", 'Invalid value: "object"', VERTEX_LOCATION, "spec.project"),
    },
    {
      rule: "vertex needs a region",
      kind: "LLMProvider",
      name: "vertex-no-region",
      spec: { type: "vertex", project: "acme-ml", credentials: { workloadIdentity: {} }, models },
      ...cel("spec", 'Invalid value: "object"', VERTEX_LOCATION, "spec.project"),
    },
    {
      rule: "tokensPerMinute needs an output bound on every chat model",
      kind: "LLMProvider",
      name: "tpm-unbounded",
      spec: {
        type: "openai",
        credentials: secretRef,
        limits: { tokensPerMinute: 1_000 },
        models: [
          { name: "gpt", maxOutputTokens: 100 },
          { name: "embed", kind: "embedding" },
          { name: "mini" },
        ],
      },
      ...cel("spec.limits.tokensPerMinute", 'Invalid value: "object"', TOKENS_PER_MINUTE_NEEDS_OUTPUT_BOUND),
    },
    {
      rule: "bedrock needs a region",
      kind: "LLMProvider",
      name: "bedrock-no-region",
      spec: { type: "bedrock", credentials: { workloadIdentity: {} }, models },
      ...cel("spec.region", "Required value", "spec.region is required when spec.type is bedrock"),
    },
    {
      rule: "route weights are not negative (one message, not a schema rule and a CEL rule)",
      kind: "LLMRoute",
      name: "negative-weight",
      spec: {
        model: "chat",
        strategy: "weighted",
        targets: [{ provider: "openai", model: "gpt", weight: -1 }],
      },
      invalid:
        "spec.targets[0].weight: Invalid value: -1: spec.targets[0].weight in body should be greater than or equal to 0",
      compiler: { field: "spec.targets[0].weight" },
    },
    {
      rule: "routes have targets (one message)",
      kind: "LLMRoute",
      name: "no-targets",
      spec: { model: "chat", targets: [] },
      invalid: "spec.targets: Invalid value: 0: spec.targets in body should have at least 1 items",
      compiler: { field: "spec.targets" },
    },
    {
      rule: "weights need the weighted strategy (priority by default)",
      kind: "LLMRoute",
      name: "weights-on-priority",
      spec: {
        model: "chat",
        targets: [
          { provider: "openai", model: "gpt", weight: 3 },
          { provider: "openai", model: "mini", weight: 1 },
        ],
      },
      ...sameRule(
        "spec.targets",
        'Invalid value: "object"',
        "spec.targets[].weight is used only by the weighted strategy; set spec.strategy: weighted or remove the weights",
      ),
    },
    {
      rule: "a consumer names an API-key Secret or a ServiceAccount",
      kind: "LLMRoute",
      name: "consumer-without-identity",
      spec: {
        model: "chat",
        targets: [{ provider: "openai", model: "gpt" }],
        consumers: [{ name: "web", limits: { requestsPerMinute: 60 } }],
      },
      ...sameRule(
        "spec.consumers[0]",
        'Invalid value: "object"',
        "a consumer needs apiKeySecretRef or serviceAccount; without either it can never authenticate",
      ),
    },
    {
      rule: "maxOutputTokens fits in contextWindow",
      kind: "LLMProvider",
      name: "output-beyond-window",
      spec: {
        type: "openai",
        credentials: secretRef,
        models: [{ name: "gpt", contextWindow: 8192, maxOutputTokens: 16384 }],
      },
      ...sameRule(
        "spec.models[0].maxOutputTokens",
        'Invalid value: "object"',
        "maxOutputTokens must not exceed contextWindow",
      ),
    },
    {
      rule: "an endpoint is http or https",
      kind: "LLMProvider",
      name: "ftp-endpoint",
      spec: {
        type: "openai-compatible",
        endpoint: "ftp://models.local/v1",
        credentials: { none: {} },
        models,
      },
      ...sameRule(
        "spec.endpoint",
        'Invalid value: "string"',
        "spec.endpoint must be an http:// or https:// URL",
      ),
    },
    {
      rule: "a migration side names a route or a provider, not both",
      kind: "EmbeddingMigration",
      name: "route-and-provider",
      spec: migrationSpec({
        source: { route: "embed-old", provider: "openai", model: "old", dimensions: 1536 },
      }),
      invalid: 'spec.source: Invalid value: "object": set exactly one of route or provider',
      compiler: { field: "spec.source", message: "spec.source: set exactly one of route or provider" },
    },
    {
      rule: "a migration side with a provider names its model",
      kind: "EmbeddingMigration",
      name: "provider-without-model",
      spec: migrationSpec({ target: { provider: "openai", dimensions: 3072 } }),
      invalid: 'spec.target: Invalid value: "object": model is required with provider',
      compiler: { field: "spec.target", message: "spec.target: model is required with provider" },
    },
    ...(
      [
        ["idColumn", "id; DROP TABLE chunks"],
        ["textColumn", "Body"],
        ["targetColumn", "1embedding"],
        ["readColumn", 'embedding"'],
        ["retiredColumn", "old-vectors"],
      ] as const
    ).map(([column, value]) => ({
      rule: `a migration's ${column} is a safe SQL identifier`,
      kind: "EmbeddingMigration",
      name: `unsafe-${column.toLowerCase()}`,
      spec: migrationSpec({ store: { postgres: { ...postgresStore(), [column]: value } } }),
      ...sameRule(`spec.store.postgres.${column}`, `Invalid value: "string"`, SQL_IDENTIFIER),
    })),
    {
      rule: "a migration's table is a safe, optionally schema-qualified, SQL name",
      kind: "EmbeddingMigration",
      name: "unsafe-table",
      spec: migrationSpec({ store: { postgres: { ...postgresStore(), table: "docs.chunks; --" } } }),
      ...sameRule(
        "spec.store.postgres.table",
        `Invalid value: "string"`,
        "must be a table name, optionally schema-qualified (schema.table), each part a lowercase SQL identifier",
      ),
    },
    {
      rule: "a migration's where filter names a safe column",
      kind: "EmbeddingMigration",
      name: "unsafe-where-column",
      spec: migrationSpec({
        store: {
          postgres: { ...postgresStore(), where: [{ column: "1=1 OR tenant", op: "eq", value: "a" }] },
        },
      }),
      ...sameRule("spec.store.postgres.where[0].column", `Invalid value: "string"`, SQL_IDENTIFIER),
    },
    {
      rule: "a where comparison has a value",
      kind: "EmbeddingMigration",
      name: "where-without-value",
      spec: migrationSpec({
        store: { postgres: { ...postgresStore(), where: [{ column: "tenant", op: "eq" }] } },
      }),
      ...sameRule("spec.store.postgres.where[0]", `Invalid value: "object"`, WHERE_OPERANDS),
    },
    {
      rule: "a where isNull has no value",
      kind: "EmbeddingMigration",
      name: "where-null-with-value",
      spec: migrationSpec({
        store: { postgres: { ...postgresStore(), where: [{ column: "tenant", op: "isNull", value: "x" }] } },
      }),
      ...sameRule("spec.store.postgres.where[0]", `Invalid value: "object"`, WHERE_OPERANDS),
    },
    {
      rule: "a where in has values, not a value",
      kind: "EmbeddingMigration",
      name: "where-in-with-value",
      spec: migrationSpec({
        store: { postgres: { ...postgresStore(), where: [{ column: "tenant", op: "in", value: "a,b" }] } },
      }),
      ...sameRule("spec.store.postgres.where[0]", `Invalid value: "object"`, WHERE_OPERANDS),
    },
    {
      rule: "the vector columns of a migration are distinct",
      kind: "EmbeddingMigration",
      name: "same-columns",
      spec: migrationSpec({
        store: { postgres: { ...postgresStore(), retiredColumn: "embedding" } },
      }),
      ...sameRule(
        "spec.store.postgres",
        `Invalid value: "object"`,
        "targetColumn, readColumn and retiredColumn must be three different columns, none of them idColumn or textColumn",
      ),
    },
    {
      rule: "a migration names the route applications query",
      kind: "EmbeddingMigration",
      name: "no-route",
      spec: { ...migrationSpec(), route: undefined },
      invalid:
        "[spec.route: Required value, <nil>: Invalid value: null: some validation rules were not checked " +
        "because the object was invalid; correct the existing errors to complete validation]",
      compiler: { field: "spec.route" },
    },
  ];

  it.each(cases)(
    "rejects a manifest that breaks the rule: $rule",
    async ({ kind, name, spec, invalid, compiler }) => {
      const object = manifest(kind, name, spec);
      expect(await rejectionOf(object)).toBe(`${kind}.${API_GROUP} "${name}" is invalid: ${invalid}`);

      const secret = {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "key", namespace },
        stringData: { apiKey: "k" },
      };
      const errors = compile([{ object: secret }, { object }]).diagnostics.filter(
        (d) => d.severity === "error",
      );
      expect(errors.map((d) => d.field)).toContain(compiler.field);
      if (compiler.message) expect(errors.map((d) => d.message)).toContain(compiler.message);
    },
  );

  it("accepts every sample under config/samples through kubectl, storing what the compiler reads", async () => {
    const files = await listManifestFiles(path.join(REPO_ROOT, "config", "samples"));
    expect(files.length).toBeGreaterThan(0);
    let applied = 0;
    for (const file of files) {
      // The samples say namespace: default; this test's namespace keeps the shared API server tidy.
      const text = (await readFile(file, "utf8")).replaceAll("namespace: default", `namespace: ${namespace}`);
      await kubectl("apply", "-f", await tempFile(path.basename(file), text));
      for (const { object } of parseManifest(text, file)) {
        const { apiVersion, kind, metadata } = object as KubernetesObject;
        if (apiVersion !== GROUP_VERSION) continue;
        const stored = JSON.parse(
          await kubectl("get", "-n", namespace, `${PLURALS.get(kind!)}/${metadata!.name}`, "-o", "json"),
        ) as { spec: unknown };
        expect(stored.spec, `${file}: ${kind}/${metadata!.name}`).toEqual((object as { spec: unknown }).spec);
        applied++;
      }
    }
    expect(applied).toBeGreaterThan(0);
  });

  describe("fallback error classes through kubectl (YAML 1.1)", () => {
    const routeYaml = (name: string, fallback: string) =>
      [
        `apiVersion: ${GROUP_VERSION}`,
        "kind: LLMRoute",
        `metadata: { name: ${name}, namespace: ${namespace} }`,
        "spec:",
        "  model: chat",
        "  targets: [{ provider: p, model: m }]",
        "  fallback:",
        `    ${fallback}`,
      ].join("\n");
    const applyYaml = async (yaml: string) =>
      kubectl("apply", "-f", await tempFile("route.yaml", yaml)).then(
        () => undefined,
        (err: { stderr: string }) => err.stderr,
      );
    const storedFallback = async (name: string) =>
      (
        JSON.parse(await kubectl("get", "-n", namespace, `llmroutes/${name}`, "-o", "json")) as {
          spec: { fallback: unknown };
        }
      ).spec.fallback;

    it("stores onErrors as written", async () => {
      expect(await applyYaml(routeYaml("on-errors", "onErrors: [rate_limit]"))).toBeUndefined();
      expect(await storedFallback("on-errors")).toEqual({ onErrors: ["rate_limit"] });
    });

    it('stores the deprecated, quoted "on" as written', async () => {
      expect(await applyYaml(routeYaml("quoted-on", '"on": [timeout]'))).toBeUndefined();
      expect(await storedFallback("quoted-on")).toEqual({ on: ["timeout"] });
    });

    it("refuses an unquoted on:, which kubectl sends as true, saying what to write", async () => {
      const refused = await applyYaml(routeYaml("unquoted-on", "on: [timeout]"));
      expect(refused).toContain(
        'spec.fallback.true: Invalid value: "object": kubectl and Helm read an unquoted "on:" key as true (YAML 1.1); write onErrors: [...] instead',
      );
    });

    it("refuses both spellings at once", async () => {
      const refused = await applyYaml(routeYaml("both", 'onErrors: [timeout]\n    "on": [timeout]'));
      expect(refused).toContain(
        'spec.fallback.on: Invalid value: "object": set onErrors only; on is its deprecated spelling',
      );
    });

    it("explains onErrors and the deprecated on", async () => {
      const explained = (await kubectl("explain", "llmroute.spec.fallback")).replace(/\s+/g, " ");
      expect(explained).toContain("onErrors <[]string> Error classes that move a request on");
      expect(explained).toContain("on <[]string> Deprecated spelling of onErrors");
    });
  });

  it("accepts manifests using every field and stores their spec unchanged, without server defaults", async () => {
    for (const object of fullManifests()) {
      const stored = await applyCustom(object);
      expect(stored.spec, object.kind).toEqual(object.spec);
    }
  });

  it("shows status through the printer columns of kubectl get", async () => {
    const [provider, route, migration] = fullManifests();
    for (const object of [provider!, route!, migration!]) await applyCustom(object);
    const condition = {
      type: "Ready",
      status: "True",
      observedGeneration: 1,
      lastTransitionTime: "2025-01-01T00:00:00Z",
      reason: "Ready",
      message: "Serving",
    };
    const statuses: Array<[KubernetesObject, Record<string, unknown>]> = [
      [
        provider!,
        {
          health: "healthy",
          circuit: "closed",
          latency: { p50Ms: 120, p95Ms: 812.5 },
          conditions: [condition],
        },
      ],
      [route!, { observedGeneration: 1, strategy: "weighted", targetCount: 2, conditions: [condition] }],
      [
        migration!,
        { phase: "Running", progress: { total: 200, done: 84, failed: 1, percent: "42%" }, eta: "12m" },
      ],
    ];
    for (const [object, status] of statuses) {
      await admin.custom.patchNamespacedCustomObjectStatus(
        {
          group: API_GROUP,
          version: API_VERSION,
          namespace,
          plural: PLURALS.get(object.kind!)!,
          name: object.metadata!.name!,
          body: { status },
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    }
    const table = async (resource: string, name: string) => {
      const lines = (await kubectl("get", resource, name, "-n", namespace)).trim().split("\n");
      // AGE is last; its value depends on the clock.
      return lines.map((line) => line.split(/\s{2,}/).slice(0, -1));
    };
    expect(await table("llmproviders", "full")).toEqual([
      ["NAME", "TYPE", "HEALTH", "CIRCUIT", "P95", "READY"],
      ["full", "azure-openai", "healthy", "closed", "812.5", "True"],
    ]);
    expect(await table("llmroutes", "full")).toEqual([
      ["NAME", "MODEL", "STRATEGY", "TARGETS", "READY"],
      ["full", "chat", "weighted", "2", "True"],
    ]);
    expect(await table("embeddingmigrations", "full")).toEqual([
      ["NAME", "PHASE", "PROGRESS", "ETA"],
      ["full", "Running", "42%", "12m"],
    ]);
  });

  it("documents fields for kubectl explain", async () => {
    const explained = (await kubectl("explain", "llmprovider.spec.credentials")).replace(/\s+/g, " ");
    expect(explained).toContain("KIND: LLMProvider");
    expect(explained).toContain(
      "How the gateway authenticates to the upstream: exactly one of secretRef, workloadIdentity or none.",
    );
    expect(explained).toContain("secretRef <Object> API key stored in a Secret in the provider's namespace.");
    expect(explained).toContain("none <Object> No credentials, for local servers such as vLLM or Ollama.");
    expect(explained).toContain(
      "workloadIdentity <Object> Keyless credentials from the cloud SDK's default chain",
    );
    const weight = (await kubectl("explain", "llmroute.spec.targets.weight")).replace(/\s+/g, " ");
    expect(weight).toContain("Relative share of traffic for the weighted strategy; 1 by default.");
  });
});

function postgresStore(): Record<string, unknown> {
  return {
    connectionSecretRef: { name: "pg", key: "url" },
    table: "docs.chunks",
    idColumn: "id",
    textColumn: "body",
    targetColumn: "embedding_v2",
    readColumn: "embedding",
    retiredColumn: "embedding_v1",
  };
}

/** A valid migration spec with some fields replaced. */
function migrationSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source: { route: "embed-old", dimensions: 1536 },
    target: { route: "embed-new", dimensions: 3072 },
    route: "embed",
    store: { postgres: postgresStore() },
    ...overrides,
  };
}

/** One manifest per kind that sets every spec field. */
function fullManifests(): Array<KubernetesObject & { spec: unknown }> {
  return [
    manifest("LLMProvider", "full", {
      type: "azure-openai",
      endpoint: "https://acme.openai.azure.com",
      region: "westeurope",
      apiVersion: "2024-10-21",
      credentials: {
        workloadIdentity: { clientId: "00000000-0000-0000-0000-000000000001", tenantId: "acme" },
      },
      models: [
        {
          name: "gpt-4o",
          providerModel: "gpt-4o-prod",
          kind: "chat",
          contextWindow: 128000,
          maxOutputTokens: 16384,
          supportsTools: true,
          pricing: { inputPer1M: 2.5, outputPer1M: 10 },
        },
        { name: "embed", providerModel: "text-embedding-3-large", kind: "embedding", dimensions: 3072 },
      ],
      dataResidency: { boundary: "provider-cloud", region: "westeurope" },
      limits: { requestsPerMinute: 600, tokensPerMinute: 200000, maxConcurrency: 32 },
      timeouts: { connect: "5s", firstToken: "30s", idle: "45s", total: "10m" },
      healthCheck: { interval: "30s", timeout: "5s", probe: "completion" },
      circuitBreaker: { failureThreshold: 5, windowSeconds: 60, openSeconds: 30, halfOpenRequests: 2 },
    }),
    manifest("LLMRoute", "full", {
      model: "chat",
      aliases: ["default-chat", "gpt"],
      strategy: "weighted",
      targets: [
        { provider: "full", model: "gpt-4o", weight: 3, priority: 0 },
        { provider: "demo-upstream", model: "demo-chat", weight: 0, priority: 1 },
      ],
      fallback: {
        on: ["rate_limit", "upstream_unavailable", "timeout", "context_length_exceeded"],
        maxAttempts: 2,
      },
      retries: { attempts: 2, backoff: "200ms", maxBackoff: "5s", respectRetryAfter: true },
      policy: {
        dataResidency: {
          allowedBoundaries: ["provider-cloud", "on-premises"],
          allowedRegions: ["westeurope"],
        },
      },
      cache: { ttl: "5m" },
      consumers: [
        {
          name: "web",
          apiKeySecretRef: { name: "web-key", key: "apiKey" },
          limits: { requestsPerMinute: 60, tokensPerMinute: 100000 },
          budget: { usd: 50, period: "day" },
        },
        { name: "batch", serviceAccount: { name: "batch", namespace: "jobs" } },
      ],
    }),
    manifest("EmbeddingMigration", "full", {
      source: { route: "embed-old", dimensions: 1536 },
      target: { provider: "full", model: "embed", dimensions: 3072 },
      route: "embed",
      store: {
        postgres: {
          ...postgresStore(),
          where: [
            { column: "tenant", op: "eq", value: "acme" },
            { column: "lang", op: "in", values: ["en", "de"] },
            { column: "deleted_at", op: "isNull" },
          ],
        },
      },
      batchSize: 128,
      requestsPerMinute: 300,
      cutover: "manual",
      cutoverApproved: false,
      paused: false,
    }),
  ];
}
