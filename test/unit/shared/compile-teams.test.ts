import { describe, expect, it } from "vitest";
import { compile } from "../../../src/shared/compile.js";
import { parseManifest } from "../../../src/shared/manifests.js";

/** spec.consumers[].team: one budget and one set of limits per team and namespace. */

const provider = {
  apiVersion: "llm.switchboard.dev/v1alpha1",
  kind: "LLMProvider",
  metadata: { name: "p", namespace: "ml" },
  spec: {
    type: "openai-compatible",
    endpoint: "http://vllm.local:8000/v1",
    credentials: { none: {} },
    models: [
      { name: "a", maxOutputTokens: 100, pricing: { inputPer1M: 1, outputPer1M: 2 } },
      { name: "b", pricing: { inputPer1M: 1, outputPer1M: 2 } },
    ],
  },
};

function route(name: string, team: object, model = "a", namespace = "ml"): object {
  return {
    apiVersion: "llm.switchboard.dev/v1alpha1",
    kind: "LLMRoute",
    metadata: { name, namespace },
    spec: {
      model: `${namespace}-${name}`,
      targets: [{ provider: "p", model }],
      consumers: [{ name: "svc", serviceAccount: { name: "svc" }, team }],
    },
  };
}

const compileDocs = (...docs: object[]) =>
  compile(parseManifest(docs.map((d) => JSON.stringify(d)).join("\n---\n"), "teams.yaml"));

const BUDGET = { usd: 20, period: "month" };

describe("teams", () => {
  it("give every consumer that names the team the budget written once, with one id per namespace", () => {
    const result = compileDocs(
      provider,
      route("one", { name: "search", budget: BUDGET, limits: { requestsPerMinute: 60 } }),
      route("two", { name: "search" }),
    );
    expect(result.diagnostics).toEqual([]);
    const teams = result.config!.routes.map((r) => r.consumers[0]!.team);
    expect(teams).toEqual([
      { id: "ml/search", budget: BUDGET, limits: { requestsPerMinute: 60 } },
      { id: "ml/search", budget: BUDGET, limits: { requestsPerMinute: 60 } },
    ]);
  });

  it("accept the same budget written on several routes", () => {
    const result = compileDocs(
      provider,
      route("one", { name: "search", budget: BUDGET }),
      route("two", { name: "search", budget: BUDGET }),
    );
    expect(result.diagnostics).toEqual([]);
  });

  it("refuse two different budgets for one team, naming the other route", () => {
    const result = compileDocs(
      provider,
      route("one", { name: "search", budget: BUDGET }),
      route("two", { name: "search", budget: { usd: 30, period: "month" } }),
    );
    expect(result.config).toBeUndefined();
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        severity: "error",
        resource: "LLMRoute/ml/two",
        field: "spec.consumers[0].team",
        reason: "TeamConflict",
        message:
          'team "search" has other budget or limits here than on LLMRoute ml/one (spec.consumers[0].team); a team has one budget and one set of limits: write them once, or identically',
      }),
    ]);
  });

  it("refuse a team with no budget or limits anywhere, and do not reach across namespaces", () => {
    const result = compileDocs(
      provider,
      { ...provider, metadata: { name: "p", namespace: "other" } },
      route("one", { name: "search", budget: BUDGET }, "a", "other"),
      route("two", { name: "search" }),
    );
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        resource: "LLMRoute/ml/two",
        reason: "TeamWithoutLimits",
        message:
          'team "search" has no budget or limits on any route in namespace "ml"; write them under spec.consumers[].team on one of its routes',
      }),
    ]);
  });

  it("refuse a team budget over a model whose answers have no known bound", () => {
    const result = compileDocs(
      provider,
      route("one", { name: "search", budget: BUDGET }),
      route("two", { name: "search" }, "b"),
    );
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ resource: "LLMRoute/ml/two", reason: "UnboundedOutput" }),
    ]);
  });
});
