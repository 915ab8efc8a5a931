import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { findCrdDrift, renderCrdFiles, writeCrdFiles } from "../../../src/shared/crd/crd-files.js";
import { toCrdSchema, type CrdSchema } from "../../../src/shared/crd/structural-schema.js";
import { withCelRules } from "../../../src/shared/schemas/kubernetes-extensions.js";
import {
  TEXT_COMPLETIONS_NEED_TYPE,
  TOKENS_PER_MINUTE_NEEDS_OUTPUT_BOUND,
} from "../../../src/shared/schemas/llm-provider.js";

const repoRoot = path.resolve(import.meta.dirname, "../../..");
const execFileAsync = promisify(execFile);

interface Crd {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources: Record<string, unknown>;
      additionalPrinterColumns: Array<{ name: string; type: string; jsonPath: string }>;
      schema: { openAPIV3Schema: CrdSchema };
    }>;
  };
}

/** The committed files, as `kubectl apply -f crds/` would read them. */
async function committedCrds(): Promise<Map<string, Crd>> {
  const crds = new Map<string, Crd>();
  for (const file of renderCrdFiles()) {
    const crd = parse(await readFile(path.join(repoRoot, "crds", file.fileName), "utf8")) as Crd;
    crds.set(crd.spec.names.kind, crd);
  }
  return crds;
}

function schemaOf(crd: Crd): CrdSchema {
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
}

/** Every schema node with its dotted path. */
function* walk(node: CrdSchema, at = ""): Generator<[string, CrdSchema]> {
  yield [at || "<root>", node];
  for (const [name, child] of Object.entries(node.properties ?? {}))
    yield* walk(child, at ? `${at}.${name}` : name);
  if (node.items) yield* walk(node.items, `${at}[]`);
  if (typeof node.additionalProperties === "object") yield* walk(node.additionalProperties, `${at}[*]`);
}

function at(schema: CrdSchema, dotted: string): CrdSchema {
  let node = schema;
  for (const part of dotted.split(".")) {
    node = part === "[]" ? node.items! : node.properties![part]!;
    if (!node) throw new Error(`no schema at ${dotted}`);
  }
  return node;
}

function celMessages(node: CrdSchema): string[] {
  return ((node["x-kubernetes-validations"] as Array<{ message: string }> | undefined) ?? []).map(
    (r) => r.message,
  );
}

describe("generated CRDs", () => {
  it("are the committed crds/*.yaml files, byte for byte", async () => {
    expect(await findCrdDrift(path.join(repoRoot, "crds"))).toEqual([]);
    expect(renderCrdFiles().map((f) => f.fileName)).toEqual([
      "llm.switchboard.dev_llmproviders.yaml",
      "llm.switchboard.dev_llmroutes.yaml",
      "llm.switchboard.dev_embeddingmigrations.yaml",
    ]);
  });

  it("declare the group, a served storage version, namespaced scope, names, categories and the status subresource", async () => {
    const crds = await committedCrds();
    const names = [...crds.values()].map((crd) => ({ name: crd.metadata.name, ...crd.spec.names }));
    expect(names).toEqual([
      {
        name: "llmproviders.llm.switchboard.dev",
        kind: "LLMProvider",
        listKind: "LLMProviderList",
        plural: "llmproviders",
        singular: "llmprovider",
        shortNames: ["llmp"],
        categories: ["switchboard"],
      },
      {
        name: "llmroutes.llm.switchboard.dev",
        kind: "LLMRoute",
        listKind: "LLMRouteList",
        plural: "llmroutes",
        singular: "llmroute",
        shortNames: ["llmr"],
        categories: ["switchboard"],
      },
      {
        name: "embeddingmigrations.llm.switchboard.dev",
        kind: "EmbeddingMigration",
        listKind: "EmbeddingMigrationList",
        plural: "embeddingmigrations",
        singular: "embeddingmigration",
        shortNames: ["embm"],
        categories: ["switchboard"],
      },
    ]);
    for (const crd of crds.values()) {
      expect(crd.spec.group).toBe("llm.switchboard.dev");
      expect(crd.spec.scope).toBe("Namespaced");
      expect(crd.spec.versions).toHaveLength(1);
      expect(crd.spec.versions[0]).toMatchObject({ name: "v1alpha1", served: true, storage: true });
      expect(crd.spec.versions[0]!.subresources).toEqual({ status: {} });
    }
  });

  it("have the printer columns kubectl get shows", async () => {
    const crds = await committedCrds();
    const columns = (kind: string) =>
      crds
        .get(kind)!
        .spec.versions[0]!.additionalPrinterColumns.map((c) => `${c.name} ${c.type} ${c.jsonPath}`);
    const ready = 'Ready string .status.conditions[?(@.type=="Ready")].status';
    const age = "Age date .metadata.creationTimestamp";
    expect(columns("LLMProvider")).toEqual([
      "Type string .spec.type",
      "Health string .status.health",
      "Circuit string .status.circuit",
      "P95 number .status.latency.p95Ms",
      ready,
      age,
    ]);
    expect(columns("LLMRoute")).toEqual([
      "Model string .spec.model",
      "Strategy string .status.strategy",
      "Targets integer .status.targetCount",
      ready,
      age,
    ]);
    expect(columns("EmbeddingMigration")).toEqual([
      "Phase string .status.phase",
      "Progress string .status.progress.percent",
      "ETA string .status.eta",
      age,
    ]);
    // Every column points at a field the schema declares, or it would always be empty.
    for (const crd of crds.values()) {
      for (const column of crd.spec.versions[0]!.additionalPrinterColumns) {
        if (column.jsonPath.startsWith(".metadata")) continue;
        const dotted = column.jsonPath.replace(/\[\?\(.*\)\]/, ".[]").slice(1);
        expect(() => at(schemaOf(crd), dotted), column.jsonPath).not.toThrow();
      }
    }
  });

  it("are structural: every node typed, no unions, refs, defaults or closed objects, every list bounded", async () => {
    for (const [kind, crd] of await committedCrds()) {
      const problems: string[] = [];
      for (const [where, node] of walk(schemaOf(crd))) {
        if (node.type === undefined && node["x-kubernetes-preserve-unknown-fields"] !== true) {
          problems.push(`${kind} ${where}: no type`);
        }
        for (const keyword of ["anyOf", "oneOf", "allOf", "not", "$ref", "$schema", "default", "const"]) {
          if (keyword in node) problems.push(`${kind} ${where}: ${keyword}`);
        }
        if (node.additionalProperties === false)
          problems.push(`${kind} ${where}: additionalProperties false`);
        if (node.properties && node.additionalProperties)
          problems.push(`${kind} ${where}: both property kinds`);
        if (node.type === "array" && typeof node.maxItems !== "number")
          problems.push(`${kind} ${where}: no maxItems`);
      }
      expect(problems).toEqual([]);
    }
  });

  it("leave metadata to the API server and require only spec at the root", async () => {
    for (const crd of (await committedCrds()).values()) {
      const root = schemaOf(crd);
      expect(root.properties!.metadata).toEqual({ type: "object" });
      expect(root.properties!.apiVersion).toMatchObject({ type: "string" });
      expect(root.properties!.kind).toMatchObject({ type: "string" });
      expect(root.required).toEqual(["spec"]);
      expect(Object.keys(root.properties!)).toEqual(["apiVersion", "kind", "metadata", "spec", "status"]);
    }
  });

  it("document every field for kubectl explain", async () => {
    const missing: string[] = [];
    for (const [kind, crd] of await committedCrds()) {
      for (const [where, node] of walk(schemaOf(crd))) {
        if (where === "metadata" || where.startsWith("metadata.")) continue;
        if (where.endsWith("[]")) continue;
        if (!node.description) missing.push(`${kind} ${where}`);
      }
    }
    expect(missing).toEqual([]);
    const provider = schemaOf((await committedCrds()).get("LLMProvider")!);
    expect(at(provider, "spec.credentials").description).toBe(
      "How the gateway authenticates to the upstream: exactly one of secretRef, workloadIdentity or none.",
    );
  });

  it("carry the CEL rules where they apply, with readable messages", async () => {
    const crds = await committedCrds();
    const provider = schemaOf(crds.get("LLMProvider")!);
    expect(celMessages(at(provider, "spec"))).toEqual([
      "spec.endpoint is required when spec.type is openai-compatible or azure-openai",
      "spec.project and spec.region are required when spec.type is vertex",
      TOKENS_PER_MINUTE_NEEDS_OUTPUT_BOUND,
      TEXT_COMPLETIONS_NEED_TYPE,
      "spec.region is required when spec.type is bedrock",
    ]);
    expect(celMessages(at(provider, "spec.credentials"))).toEqual([
      "spec.credentials must set exactly one of secretRef, workloadIdentity or none",
    ]);
    expect(celMessages(at(provider, "spec.models"))).toEqual([
      "spec.models must not list the same model name twice",
    ]);
    const route = schemaOf(crds.get("LLMRoute")!);
    // A bound the schema states is not stated again in CEL: one message per problem.
    expect(celMessages(at(route, "spec.targets"))).toEqual([]);
    expect(at(route, "spec.targets")).toMatchObject({ minItems: 1, maxItems: 64 });
    expect(celMessages(at(route, "spec.targets.[].weight"))).toEqual([]);
    expect(at(route, "spec.targets.[].weight")).toMatchObject({ type: "integer", minimum: 0 });
    expect(celMessages(at(route, "spec"))).toEqual([
      "spec.targets[].weight is used only by the weighted strategy; set spec.strategy: weighted or remove the weights",
    ]);
    expect(celMessages(at(route, "spec.consumers.[]"))).toEqual([
      "a consumer needs apiKeySecretRef or serviceAccount; without either it can never authenticate",
    ]);
    expect(celMessages(at(provider, "spec.endpoint"))).toEqual([
      "spec.endpoint must be an http:// or https:// URL",
    ]);
    expect(celMessages(at(provider, "spec.models.[]"))).toEqual([
      "maxOutputTokens must not exceed contextWindow",
    ]);
    const migration = schemaOf(crds.get("EmbeddingMigration")!);
    for (const side of ["spec.source", "spec.target"]) {
      expect(celMessages(at(migration, side))).toEqual([
        "set exactly one of route or provider",
        "model is required with provider",
      ]);
    }
    expect(celMessages(at(migration, "spec.store.postgres"))).toEqual([
      "targetColumn, readColumn and retiredColumn must be three different columns, none of them idColumn or textColumn",
    ]);
    for (const column of ["idColumn", "textColumn", "targetColumn", "readColumn", "retiredColumn"]) {
      expect(at(migration, `spec.store.postgres.${column}`)["x-kubernetes-validations"]).toEqual([
        {
          rule: "self.matches('^[a-z_][a-z0-9_]{0,62}$')",
          message:
            "must be a lowercase SQL identifier: a-z, 0-9 and _, not starting with a digit, at most 63 characters",
        },
      ]);
    }
  });

  it("bound every string a CEL rule reads, so the API server's cost estimate passes", async () => {
    const provider = schemaOf((await committedCrds()).get("LLMProvider")!);
    expect(at(provider, "spec.type").maxLength).toBe("openai-compatible".length);
    expect(at(provider, "spec.models.[].name").maxLength).toBe(200);
  });

  it("keep conditions a list keyed by type, as server-side apply and kstatus expect", async () => {
    for (const crd of (await committedCrds()).values()) {
      expect(at(schemaOf(crd), "status.conditions")).toMatchObject({
        type: "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["type"],
      });
      expect(at(schemaOf(crd), "status.conditions.[]").required).toEqual(
        expect.arrayContaining(["type", "status", "reason", "message", "lastTransitionTime"]),
      );
    }
  });
});

describe("toCrdSchema", () => {
  const resource = (spec: z.ZodType) =>
    z.object({
      apiVersion: z.string(),
      kind: z.string(),
      metadata: z.object({}),
      spec: spec.describe("Spec."),
    });

  it("turns loose objects and maps into what the API server accepts", () => {
    const schema = toCrdSchema(
      resource(
        z.object({
          labels: z.record(z.string(), z.string()).describe("Labels."),
          extra: z.object({}).loose().describe("Free-form."),
          count: z.number().int().positive().describe("Count."),
        }),
      ),
    );
    expect(at(schema, "spec.labels")).toEqual({
      description: "Labels.",
      type: "object",
      additionalProperties: { type: "string" },
    });
    expect(at(schema, "spec.extra")).toEqual({
      description: "Free-form.",
      type: "object",
      "x-kubernetes-preserve-unknown-fields": true,
    });
    expect(at(schema, "spec.count")).toEqual({ description: "Count.", type: "integer", minimum: 1 });
  });

  it("adds CEL rules attached with withCelRules to those already there", () => {
    const base = withCelRules(z.string().max(10), [{ rule: "self != 'a'", message: "not a" }]);
    const both = withCelRules(base, [{ rule: "self != 'b'", message: "not b" }]);
    const schema = toCrdSchema(resource(z.object({ name: both.describe("Name.") })));
    expect(celMessages(at(schema, "spec.name"))).toEqual(["not a", "not b"]);
  });

  it.each<[string, z.ZodType, string]>([
    [
      "a union",
      z.object({ value: z.union([z.string(), z.number()]).describe("Value.") }),
      'spec.value: "anyOf" is not allowed: unions are not structural',
    ],
    [
      "a default",
      z.object({ mode: z.string().max(8).default("fast").describe("Mode.") }),
      'spec.mode: "default" is not allowed: API server defaults make Argo CD show OutOfSync forever',
    ],
    [
      "an unbounded list",
      z.object({ items: z.array(z.string()).describe("Items.") }),
      "spec.items: every list needs .max()",
    ],
    [
      "a field without a description",
      z.object({ nameless: z.string() }),
      "spec.nameless: has no description; add .describe() so kubectl explain documents it",
    ],
  ])("refuses %s, naming the field and what to do", (_what, spec, message) => {
    expect(() => toCrdSchema(resource(spec))).toThrow(message);
  });
});

describe("drift check", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "switchboard-crds-"));
    await writeCrdFiles(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("finds a modified, a missing and a stale file", async () => {
    expect(await findCrdDrift(dir)).toEqual([]);
    const routes = path.join(dir, "llm.switchboard.dev_llmroutes.yaml");
    await writeFile(routes, (await readFile(routes, "utf8")).replace("maxItems: 64", "maxItems: 65"));
    await unlink(path.join(dir, "llm.switchboard.dev_embeddingmigrations.yaml"));
    await writeFile(path.join(dir, "llm.switchboard.dev_oldkinds.yaml"), "kind: CustomResourceDefinition\n");
    const drift = await findCrdDrift(dir);
    expect(drift.map((d) => `${d.fileName} ${d.problem}`)).toEqual([
      "llm.switchboard.dev_llmroutes.yaml differs",
      "llm.switchboard.dev_embeddingmigrations.yaml missing",
      "llm.switchboard.dev_oldkinds.yaml stale",
    ]);
    expect(drift[0]!.detail).toMatch(/^line \d+: committed ".*maxItems: 65", generated ".*maxItems: 64"$/);
  });

  it("makes `generate-crds --check` exit 1 with instructions, and 0 once regenerated", async () => {
    const script = path.join(repoRoot, "scripts/generate-crds.ts");
    const reference = path.join(dir, "reference");
    const run = (...args: string[]) =>
      execFileAsync(process.execPath, ["--import", "tsx", script, ...args, "--reference-dir", reference], {
        cwd: repoRoot,
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
    const providers = path.join(dir, "llm.switchboard.dev_llmproviders.yaml");
    await writeFile(
      providers,
      (await readFile(providers, "utf8")).replace("shortNames:\n      - llmp", "shortNames:\n      - llp"),
    );

    const failed = await run("--check", "--dir", dir);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("The CRDs are out of date with the zod schemas in src/shared/schemas:");
    expect(failed.stderr).toContain(`llm.switchboard.dev_llmproviders.yaml: differs from the schema (line`);
    expect(failed.stderr).toContain("Run `npm run crds` and commit the result.");

    expect((await run("--dir", dir)).code).toBe(0);
    const passed = await run("--check", "--dir", dir);
    expect(passed.code).toBe(0);
    expect(passed.stdout).toContain("3 files match the zod schemas");
  });
});
