/**
 * kubectl and Helm read YAML 1.1 (sigs.k8s.io/yaml), where unquoted `on`, `off`, `yes`, `no`,
 * `y` and `n` are booleans; most other tools read YAML 1.2, where they are strings. Every YAML
 * file the project ships for users (generated CRDs, the chart's copies and values, the samples)
 * must mean the same to both.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { compile } from "../../../src/shared/compile.js";
import { parseManifest } from "../../../src/shared/manifests.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return yamlFiles(full);
      return /\.ya?ml$/.test(name) ? [full] : [];
    })
    .sort();
}

const files = [
  ...yamlFiles(path.join(ROOT, "crds")),
  ...yamlFiles(path.join(ROOT, "charts/switchboard/crds")),
  path.join(ROOT, "charts/switchboard/values.yaml"),
  path.join(ROOT, "charts/switchboard/Chart.yaml"),
  ...yamlFiles(path.join(ROOT, "charts/switchboard/monitoring")),
  ...yamlFiles(path.join(ROOT, "config/samples")),
].map((file) => path.relative(ROOT, file));

function read(file: string, version: "1.1" | "1.2"): unknown[] {
  return parseAllDocuments(readFileSync(path.join(ROOT, file), "utf8"), { version }).map((doc) => {
    expect(doc.errors, file).toEqual([]);
    return doc.toJS() as unknown;
  });
}

describe("shipped YAML read as kubectl and Helm read it", () => {
  it("covers the CRDs, the chart's copies and the samples", () => {
    expect(files.filter((f) => f.startsWith("crds/")).length).toBe(3);
    expect(files.filter((f) => f.startsWith("charts/switchboard/crds/")).length).toBe(3);
    expect(files.filter((f) => f.startsWith("config/samples/")).length).toBeGreaterThan(5);
  });

  it.each(files)("%s means the same in YAML 1.1 and 1.2", (file) => {
    expect(read(file, "1.1")).toEqual(read(file, "1.2"));
  });

  it("the route CRD names the fallback fields onErrors and on, not true", () => {
    const [crd] = read("crds/llm.switchboard.dev_llmroutes.yaml", "1.1") as Array<{
      spec: { versions: Array<{ schema: { openAPIV3Schema: unknown } }> };
    }>;
    const schema = crd!.spec.versions[0]!.schema.openAPIV3Schema as {
      properties: { spec: { properties: { fallback: { properties: Record<string, unknown> } } } };
    };
    expect(Object.keys(schema.properties.spec.properties.fallback.properties)).toEqual([
      "onErrors",
      "on",
      "true",
      "maxAttempts",
    ]);
  });
});

describe("fallback error classes in a manifest", () => {
  const route = (fallback: string) =>
    parseManifest(
      [
        "apiVersion: llm.switchboard.dev/v1alpha1",
        "kind: LLMProvider",
        "metadata: { name: p }",
        "spec: { type: openai-compatible, endpoint: http://127.0.0.1:1/v1, credentials: { none: {} }, models: [{ name: m }] }",
        "---",
        "apiVersion: llm.switchboard.dev/v1alpha1",
        "kind: LLMRoute",
        "metadata: { name: r }",
        "spec:",
        "  model: chat",
        "  targets: [{ provider: p, model: m }]",
        "  fallback:",
        `    ${fallback}`,
      ].join("\n"),
      "route.yaml",
    );

  it("onErrors is what the gateway runs", () => {
    const result = compile(route("onErrors: [rate_limit]"));
    expect(result.diagnostics).toEqual([]);
    expect(result.config!.routes[0]!.fallback.on).toEqual(["rate_limit"]);
  });

  it('a quoted "on" still works, with a deprecation warning', () => {
    const result = compile(route('"on": [timeout]'));
    expect(result.config!.routes[0]!.fallback.on).toEqual(["timeout"]);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        severity: "warning",
        reason: "DeprecatedField",
        field: "spec.fallback.on",
        message:
          "spec.fallback.on is deprecated (an unquoted on: key means true to kubectl and Helm); rename it to onErrors",
      }),
    ]);
  });

  it("an unquoted on: is refused with a message saying what to write, as the API server does", () => {
    const result = compile(route("on: [timeout]"));
    expect(result.config).toBeUndefined();
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        severity: "error",
        field: "spec.fallback.true",
        message:
          'spec.fallback.true: kubectl and Helm read an unquoted "on:" key as true (YAML 1.1); write onErrors: [...] instead',
      }),
    ]);
  });
});
