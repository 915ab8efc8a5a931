import { describe, expect, it } from "vitest";
import { compileByNamespace } from "../../../src/operator/compile-by-namespace.js";
import type { WatchedObject } from "../../../src/operator/informers/watched-resources.js";
import { ACKNOWLEDGE_VECTOR_SPACE_CHANGE } from "../../../src/operator/vector-space-guard.js";
import type { GatewayConfig } from "../../../src/shared/schemas/gateway-config.js";
import { provider, route } from "./status-fixtures.js";

const EMBEDDING_MODELS = [
  { name: "small", providerModel: "text-embedding-3-small", kind: "embedding", dimensions: 1536 },
  { name: "small-512", providerModel: "text-embedding-3-small", kind: "embedding", dimensions: 512 },
  { name: "titan", providerModel: "amazon.titan-embed-text-v2:0", kind: "embedding", dimensions: 1024 },
  { name: "gpt", kind: "chat" },
  { name: "mini", kind: "chat" },
];

function embeddingProvider(models = EMBEDDING_MODELS, generation = 1): WatchedObject {
  return provider(
    "team-a",
    "p",
    { type: "openai-compatible", endpoint: "http://127.0.0.1:9/v1", credentials: { none: {} }, models },
    generation,
  );
}

function embedRoute(model: string, generation = 1, acknowledge?: string): WatchedObject {
  const object = route(
    "team-a",
    "embed",
    { model: "embed", targets: [{ provider: "p", model }] },
    generation,
  );
  if (acknowledge) object.metadata!.annotations = { [ACKNOWLEDGE_VECTOR_SPACE_CHANGE]: acknowledge };
  return object;
}

function chatRoute(model: string, generation = 1): WatchedObject {
  return route("team-a", "chat", { model: "chat", targets: [{ provider: "p", model }] }, generation);
}

function compile(objects: WatchedObject[], published?: GatewayConfig) {
  return compileByNamespace(
    objects.filter((o) => o.kind === "LLMProvider"),
    objects.filter((o) => o.kind === "LLMRoute"),
    () => undefined,
    published,
  );
}

const servedModel = (config: GatewayConfig, id = "team-a/embed") =>
  config.routes.find((r) => r.id === id)!.targets[0]!.model;

describe("vector-space guard", () => {
  const before = compile([embeddingProvider(), embedRoute("small")]).config;

  it("refuses a route edit to another embedding model; the old model keeps serving", () => {
    const result = compile([embeddingProvider(), embedRoute("titan", 2)], before);
    expect(servedModel(result.config)).toBe("small");
    expect(result.config.routes.find((r) => r.id === "team-a/embed")!.generation).toBe(1);
    const [error] = result.diagnostics.get("LLMRoute/team-a/embed")!;
    expect(error).toMatchObject({ severity: "error", reason: "VectorSpaceChangeRefused" });
    expect(error!.message).toContain("serves text-embedding-3-small (1536 dimensions)");
    expect(error!.message).toContain("switch it to amazon.titan-embed-text-v2:0 (1024 dimensions)");
    expect(error!.message).toContain('EmbeddingMigration with spec.route: "embed"');
    expect(error!.message).toContain(
      `kubectl annotate llmroute embed -n team-a ${ACKNOWLEDGE_VECTOR_SPACE_CHANGE}=amazon.titan-embed-text-v2:0@1024`,
    );
    // Only the route is held back: the namespace is not refused.
    expect(result.refused.size).toBe(0);
  });

  it("refuses a change of dimensions alone", () => {
    const result = compile([embeddingProvider(), embedRoute("small-512", 2)], before);
    expect(servedModel(result.config)).toBe("small");
    expect(result.diagnostics.get("LLMRoute/team-a/embed")![0]!.message).toContain("(512 dimensions)");
  });

  it("lets the rest of the namespace go live while the route is held", () => {
    const withChat = compile([embeddingProvider(), embedRoute("small"), chatRoute("gpt")]).config;
    const result = compile([embeddingProvider(), embedRoute("titan", 2), chatRoute("mini", 2)], withChat);
    expect(servedModel(result.config)).toBe("small");
    expect(servedModel(result.config, "team-a/chat")).toBe("mini");
  });

  it("accepts the change the annotation names, and only that one", () => {
    const acknowledged = compile(
      [embeddingProvider(), embedRoute("titan", 2, "amazon.titan-embed-text-v2:0@1024")],
      before,
    );
    expect(servedModel(acknowledged.config)).toBe("titan");
    expect(acknowledged.diagnostics.get("LLMRoute/team-a/embed")).toBeUndefined();

    const stale = compile(
      [embeddingProvider(), embedRoute("small-512", 3, "amazon.titan-embed-text-v2:0@1024")],
      acknowledged.config,
    );
    expect(servedModel(stale.config)).toBe("titan");
    expect(stale.diagnostics.get("LLMRoute/team-a/embed")![0]!.reason).toBe("VectorSpaceChangeRefused");
  });

  it("allows edits that keep the space: another provider model name for the same upstream model", () => {
    const alias = { ...EMBEDDING_MODELS[0]!, name: "small-v2" };
    const result = compile(
      [embeddingProvider([...EMBEDDING_MODELS, alias]), embedRoute("small-v2", 2)],
      before,
    );
    expect(servedModel(result.config)).toBe("small-v2");
    expect(result.diagnostics.size).toBe(0);
  });

  it("holds the whole namespace when a provider edit changes the space under the route", () => {
    const swapped = EMBEDDING_MODELS.map((m) =>
      m.name === "small" ? { ...m, providerModel: "text-embedding-3-large", dimensions: 3072 } : m,
    );
    const result = compile([embeddingProvider(swapped, 2), embedRoute("small")], before);
    expect(result.refused.get("team-a")![0]!.reason).toBe("VectorSpaceChangeRefused");
    expect(result.config.providers[0]!.models.find((m) => m.name === "small")!.upstreamModel).toBe(
      "text-embedding-3-small",
    );
  });

  it("does not guard new routes or chat routes", () => {
    expect(compile([embeddingProvider(), embedRoute("titan")]).diagnostics.size).toBe(0);
    const chatBefore = compile([embeddingProvider(), chatRoute("gpt")]).config;
    expect(compile([embeddingProvider(), chatRoute("mini", 2)], chatBefore).diagnostics.size).toBe(0);
  });
});
