import { describe, expect, it } from "vitest";
import { compile, formatDiagnostic, type SourcedObject } from "../../../src/shared/compile.js";
import { parseManifest } from "../../../src/shared/manifests.js";

const base = `
apiVersion: v1
kind: Secret
metadata: { name: openai-key, namespace: team-a }
stringData: { apiKey: sk-test-0123456789abcdef }
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMProvider
metadata: { name: openai, namespace: team-a }
spec:
  type: openai
  credentials: { secretRef: { name: openai-key, key: apiKey } }
  dataResidency: { boundary: provider-cloud, region: us }
  models:
    - { name: gpt-4o-mini, contextWindow: 128000, pricing: { inputPer1M: 0.15, outputPer1M: 0.6 } }
    - { name: text-embedding-3-small, kind: embedding, dimensions: 1536 }
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMProvider
metadata: { name: local, namespace: team-a }
spec:
  type: openai-compatible
  endpoint: http://vllm.local:8000/v1/
  credentials: { none: {} }
  dataResidency: { boundary: on-premises }
  models: [{ name: llama, providerModel: meta-llama/Llama-3.1-8B-Instruct }]
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMRoute
metadata: { name: chat, namespace: team-a }
spec:
  model: chat
  aliases: [default-chat]
  targets:
    - { provider: local, model: llama }
    - { provider: openai, model: gpt-4o-mini }
`;

function objects(yaml: string): SourcedObject[] {
  return parseManifest(yaml, "test.yaml");
}

/** base plus more documents; JSON is YAML, so parseManifest reads them as it reads files. */
function withDocs(...extra: object[]): SourcedObject[] {
  return objects([base, ...extra.map((doc) => JSON.stringify(doc))].join("\n---\n"));
}

function resource(kind: "LLMProvider" | "LLMRoute", name: string, spec: object): object {
  return { apiVersion: "llm.switchboard.dev/v1alpha1", kind, metadata: { name, namespace: "team-a" }, spec };
}

describe("compile", () => {
  it("compiles providers and routes with defaults applied by the compiler", () => {
    const result = compile(objects(base));
    expect(result.diagnostics).toEqual([]);
    const config = result.config!;
    const local = config.providers.find((p) => p.id === "team-a/local")!;
    expect(local.endpoint).toBe("http://vllm.local:8000/v1");
    expect(local.models[0]!.upstreamModel).toBe("meta-llama/Llama-3.1-8B-Instruct");
    expect(local.timeouts).toEqual({
      connectMs: 10_000,
      firstTokenMs: 60_000,
      idleMs: 60_000,
      totalMs: 600_000,
    });
    const openai = config.providers.find((p) => p.id === "team-a/openai")!;
    expect(openai.credentials).toEqual({ mode: "apiKey", apiKey: "sk-test-0123456789abcdef" });
    const route = config.routes[0]!;
    expect(route).toMatchObject({
      id: "team-a/chat",
      kind: "chat",
      strategy: "priority",
      aliases: ["default-chat"],
    });
    expect(route.targets.map((t) => t.providerId)).toEqual(["team-a/local", "team-a/openai"]);
    expect(route.fallback).toEqual({ on: ["rate_limit", "upstream_unavailable", "timeout"], maxAttempts: 2 });
  });

  it("gives the same version for the same input in any order, and a new one on change", () => {
    const docs = objects(base);
    const a = compile(docs).config!.version;
    const b = compile([...docs].reverse()).config!.version;
    expect(a).toBe(b);
    const changed = compile(
      objects(base.replace("gpt-4o-mini, contextWindow: 128000", "gpt-4o-mini, contextWindow: 64000")),
    );
    expect(changed.config!.version).not.toBe(a);
  });

  it("refuses a route whose target provider does not exist, naming file, resource and field", () => {
    const result = compile(
      withDocs(
        resource("LLMRoute", "broken", { model: "broken", targets: [{ provider: "nope", model: "x" }] }),
      ),
    );
    expect(result.config).toBeUndefined();
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'error: test.yaml: LLMRoute/team-a/broken: LLMProvider "nope" not found in namespace "team-a" (or it is invalid)',
    ]);
    expect(result.diagnostics[0]!.field).toBe("spec.targets[0].provider");
  });

  it.each([
    {
      refused: "a schema error, with the field path",
      docs: [
        resource("LLMProvider", "bad", {
          type: "openai",
          credentials: { none: {} },
          models: [{ name: "m", contextWindow: -5 }],
        }),
      ],
      diagnostic: { resource: "LLMProvider/team-a/bad", field: "spec.models[0].contextWindow" },
    },
    {
      refused: "an embedding route over different embedding models",
      docs: [
        resource("LLMProvider", "other-embed", {
          type: "openai-compatible",
          endpoint: "http://e.local/v1",
          credentials: { none: {} },
          models: [{ name: "bge", kind: "embedding", dimensions: 1024 }],
        }),
        resource("LLMRoute", "embed", {
          model: "embed",
          targets: [
            { provider: "openai", model: "text-embedding-3-small" },
            { provider: "other-embed", model: "bge" },
          ],
        }),
      ],
      diagnostic: { reason: "IncomparableEmbeddings", resource: "LLMRoute/team-a/embed" },
    },
    {
      refused: "two routes claiming the same model name",
      docs: [
        resource("LLMRoute", "dup", {
          model: "default-chat",
          targets: [{ provider: "local", model: "llama" }],
        }),
      ],
      diagnostic: {
        reason: "ModelConflict",
        message: 'model name "default-chat" is already served by LLMRoute/team-a/chat',
      },
    },
  ])("refuses $refused", ({ docs, diagnostic }) => {
    const result = compile(withDocs(...docs));
    expect(result.config).toBeUndefined();
    expect(result.diagnostics).toContainEqual(expect.objectContaining({ severity: "error", ...diagnostic }));
  });

  it.each([
    {
      rule: "endpoint required",
      head: { type: "openai-compatible", credentials: { none: {} } },
      message: "spec.endpoint is required when spec.type is openai-compatible",
    },
    {
      rule: "exactly one credentials mode",
      head: { type: "openai", credentials: { none: {}, secretRef: { name: "a", key: "b" } } },
      message: "spec.credentials must set exactly one of secretRef, workloadIdentity or none",
    },
    {
      rule: "bedrock region",
      head: { type: "bedrock", credentials: { workloadIdentity: {} } },
      message: "spec.region is required when spec.type is bedrock",
    },
  ])("enforces the provider rule: $rule", ({ head, message }) => {
    const result = compile(withDocs(resource("LLMProvider", "rule", { ...head, models: [{ name: "m" }] })));
    expect(result.diagnostics.map((d) => d.message)).toContain(message);
  });

  it.each([
    {
      kind: "LLMProvider, limits inside models[]",
      doc: resource("LLMProvider", "misplaced", {
        type: "openai",
        credentials: { none: {} },
        models: [{ name: "m", limits: { requestsPerMinute: 5 } }],
      }),
      expected:
        'error: test.yaml: LLMProvider/team-a/misplaced: spec.models[0].limits: unknown field; "limits" is a field of spec, not of spec.models[]',
    },
    {
      kind: "LLMRoute, a consumer's requestPerMinute",
      doc: resource("LLMRoute", "typo", {
        model: "typo",
        targets: [{ provider: "local", model: "llama" }],
        consumers: [{ name: "team", limits: { requestPerMinute: 5 } }],
      }),
      expected:
        "error: test.yaml: LLMRoute/team-a/typo: spec.consumers[0].limits.requestPerMinute: unknown field; spec.consumers[].limits takes requestsPerMinute, tokensPerMinute",
    },
    {
      kind: "EmbeddingMigration, a misspelt spec field",
      doc: {
        apiVersion: "llm.switchboard.dev/v1alpha1",
        kind: "EmbeddingMigration",
        metadata: { name: "reindex", namespace: "team-a" },
        spec: {
          source: { route: "old-embed", dimensions: 768 },
          target: { route: "new-embed", dimensions: 1024 },
          store: {
            postgres: {
              connectionSecretRef: { name: "pg", key: "url" },
              table: "docs",
              idColumn: "id",
              textColumn: "body",
              targetColumn: "embedding_v2",
            },
          },
          batchsize: 64,
        },
      },
      // The rest of this spec is beside the point: only the unknown field's diagnostic is compared.
      expected: expect.stringMatching(
        /^error: test\.yaml: EmbeddingMigration\/team-a\/reindex: spec\.batchsize: unknown field; spec takes source, target, .*\bbatchSize\b/,
      ),
    },
    {
      kind: "Secret, stringdata",
      doc: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "lowercase", namespace: "team-a" },
        stringdata: { key: "value" },
      },
      expected:
        "error: test.yaml: Secret/team-a/lowercase: stringdata: unknown field; the top level takes apiVersion, kind, metadata, type, immutable, data, stringData",
    },
  ])("refuses an unknown field, naming it and the file ($kind)", ({ doc, expected }) => {
    const result = compile(withDocs(doc));
    expect(result.config).toBeUndefined();
    const unknown = result.diagnostics.filter((d) => d.reason === "UnknownField");
    expect(unknown.map(formatDiagnostic)).toEqual([expected]);
  });

  it("accepts what the API server adds to metadata and status", () => {
    const result = compile(
      withDocs(
        resource("LLMRoute", "exported", {
          model: "exported",
          targets: [{ provider: "local", model: "llama" }],
        }),
      ).map((item, index, all) =>
        index === all.length - 1
          ? {
              ...item,
              object: {
                ...(item.object as object),
                metadata: {
                  name: "exported",
                  namespace: "team-a",
                  managedFields: [{ manager: "kubectl" }],
                  finalizers: ["x"],
                },
                status: { observedGeneration: 1, targetCount: 1 },
              },
            }
          : item,
      ),
    );
    expect(result.diagnostics).toEqual([]);
  });

  it("takes textCompletions only on provider types whose API has text completions", () => {
    const result = compile(
      withDocs(
        resource("LLMProvider", "claude", {
          type: "anthropic",
          credentials: { secretRef: { name: "openai-key", key: "apiKey" } },
          models: [{ name: "sonnet", textCompletions: true }],
        }),
        resource("LLMProvider", "vllm", {
          type: "openai-compatible",
          endpoint: "http://vllm.local/v1",
          credentials: { none: {} },
          models: [{ name: "base", textCompletions: true }],
        }),
      ),
    );
    expect(result.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic)).toEqual([
      "error: test.yaml: LLMProvider/team-a/claude: textCompletions is only for openai and openai-compatible providers; other types answer POST /v1/completions by sending the prompt as a chat message",
    ]);
  });

  it("refuses token limits and budgets over a model whose answers have no known bound", () => {
    const result = compile(
      withDocs(
        resource("LLMProvider", "limited", {
          type: "openai-compatible",
          endpoint: "http://vllm.local/v1",
          credentials: { none: {} },
          limits: { tokensPerMinute: 10_000 },
          models: [{ name: "bounded", maxOutputTokens: 512 }, { name: "unbounded" }],
        }),
        resource("LLMRoute", "capped", {
          model: "capped",
          targets: [
            { provider: "local", model: "llama" },
            { provider: "openai", model: "gpt-4o-mini" },
          ],
          consumers: [
            { name: "tpm", serviceAccount: { name: "a" }, limits: { tokensPerMinute: 1_000 } },
            { name: "spend", serviceAccount: { name: "b" }, budget: { usd: 5, period: "day" } },
          ],
        }),
      ),
    );
    expect(result.config).toBeUndefined();
    expect(result.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic)).toEqual([
      "error: test.yaml: LLMProvider/team-a/limited: spec.limits.tokensPerMinute needs maxOutputTokens or contextWindow on every chat model in spec.models, so the gateway knows the most a request may use before sending it",
      'error: test.yaml: LLMRoute/team-a/capped: consumer "tpm" has a tokens-per-minute limit, but team-a/local/llama sets neither maxOutputTokens nor contextWindow in spec.models, so the most a request may use is unknown before it is sent; set one of them',
    ]);
    // The budget only counts priced targets, and gpt-4o-mini has a context window: a warning, not an error.
    expect(result.diagnostics.find((d) => d.field === "spec.consumers[1].budget")?.reason).toBe(
      "BudgetWithoutPricing",
    );
  });

  it("keeps a provider whose Secret is missing, marked unresolved, with a warning", () => {
    const result = compile(
      objects(base.replace("name: openai-key, namespace", "name: other-key, namespace")),
    );
    const openai = result.config!.providers.find((p) => p.id === "team-a/openai")!;
    expect(openai.credentials).toMatchObject({ mode: "unresolved", reason: "SecretNotFound" });
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        severity: "warning",
        reason: "SecretNotFound",
        resource: "LLMProvider/team-a/openai",
      }),
    ]);
    expect(JSON.stringify(result.diagnostics)).not.toContain("sk-test");
  });

  it("warns when a consumer's budget covers a target without pricing", () => {
    const result = compile(
      withDocs(
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "team-key", namespace: "team-a" },
          stringData: { key: "team-secret-value" },
        },
        resource("LLMRoute", "budgeted", {
          model: "budgeted",
          targets: [
            { provider: "local", model: "llama" },
            { provider: "openai", model: "gpt-4o-mini" },
          ],
          consumers: [
            {
              name: "team",
              apiKeySecretRef: { name: "team-key", key: "key" },
              budget: { usd: 10, period: "day" },
            },
          ],
        }),
      ),
    );
    expect(result.config).toBeDefined();
    expect(result.diagnostics).toEqual([
      expect.objectContaining({
        severity: "warning",
        reason: "BudgetWithoutPricing",
        field: "spec.consumers[0].budget",
        message:
          'consumer "team" has a budget, but team-a/local/llama has no spec.models[].pricing, so calls there cost nothing against it',
      }),
    ]);
  });
});

describe("documents that are not Switchboard resources", () => {
  it("warns naming the file and what the document lacks", () => {
    const { diagnostics } = compile([
      { object: { foo: "bar" }, source: "config/notes.yaml" },
      { object: { kind: "ConfigMap", metadata: { name: "x" } }, source: "config/cm.yaml" },
      { object: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" } }, source: "d.yaml" },
    ]);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      "warning: config/notes.yaml: document/default/<unnamed>: ignored a YAML document with neither apiVersion nor kind (not a Kubernetes resource): Switchboard reads only llm.switchboard.dev/v1alpha1 resources and v1 Secrets",
      "warning: config/cm.yaml: ConfigMap/default/x: ignored a ConfigMap without apiVersion: Switchboard reads only llm.switchboard.dev/v1alpha1 resources and v1 Secrets",
      "warning: d.yaml: Deployment/default/web: ignored apps/v1 Deployment: Switchboard reads only llm.switchboard.dev/v1alpha1 resources and v1 Secrets",
    ]);
  });
});

describe("spec.endpoint of an openai-compatible provider", () => {
  const provider = (endpoint: string): SourcedObject => ({
    source: "vllm.yaml",
    object: {
      apiVersion: "llm.switchboard.dev/v1alpha1",
      kind: "LLMProvider",
      metadata: { name: "vllm" },
      spec: { type: "openai-compatible", endpoint, credentials: { none: {} }, models: [{ name: "llama" }] },
    },
  });

  it("warns, with the URL to write, when it has no path", () => {
    const { diagnostics, config } = compile([provider("http://vllm:8000/")]);
    expect(config).toBeDefined();
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      "warning: vllm.yaml: LLMProvider/default/vllm: spec.endpoint http://vllm:8000/ has no path, so requests go to http://vllm:8000/chat/completions; OpenAI-compatible servers (vLLM, Ollama) serve the API under /v1: write http://vllm:8000/v1",
    ]);
  });

  it("takes a URL with a path as is", () => {
    expect(compile([provider("http://vllm:8000/v1")]).diagnostics).toEqual([]);
  });
});
