import { describe, expect, it } from "vitest";
import { compileByNamespace } from "../../../src/operator/compile-by-namespace.js";
import { compileWatched } from "../../../src/operator/compile-watched.js";
import type { WatchedObject } from "../../../src/operator/informers/watched-resources.js";
import type { GatewayConfig } from "../../../src/shared/schemas/gateway-config.js";
import { openAiSpec, provider, route, secret } from "./status-fixtures.js";

function world(...namespaces: string[]): WatchedObject[] {
  return namespaces.flatMap((ns) => [
    secret(ns, "openai-key", { apiKey: `sk-${ns}` }),
    provider(ns, "p", openAiSpec()),
    route(ns, "chat", { model: `chat-${ns}`, targets: [{ provider: "p", model: "gpt" }] }),
  ]);
}

function compileAll(objects: WatchedObject[], published?: GatewayConfig) {
  const secrets = objects.filter((o) => o.kind === "Secret");
  return compileByNamespace(
    objects.filter((o) => o.kind === "LLMProvider"),
    objects.filter((o) => o.kind === "LLMRoute"),
    (namespace, name) =>
      secrets.find((s) => s.metadata?.namespace === namespace && s.metadata?.name === name),
    published,
  );
}

/** A route the compiler refuses: a tokens-per-minute limit over models with no output bound. */
function unboundedRoute(namespace: string, generation = 1): WatchedObject {
  return route(
    namespace,
    "chat",
    {
      model: `chat-${namespace}`,
      targets: [{ provider: "p", model: "gpt" }],
      consumers: [{ name: "app", serviceAccount: { name: "app" }, limits: { tokensPerMinute: 1000 } }],
    },
    generation,
  );
}

/** Replaces the object of that kind, namespace and name. */
function replace(objects: WatchedObject[], next: WatchedObject): WatchedObject[] {
  const same = (o: WatchedObject) =>
    o.kind === next.kind &&
    o.metadata?.namespace === next.metadata?.namespace &&
    o.metadata?.name === next.metadata?.name;
  return [...objects.filter((o) => !same(o)), next];
}

describe("compileByNamespace", () => {
  it("equals one compile of everything when every namespace is valid, version included", () => {
    const objects = world("team-a", "team-b");
    const whole = compileWatched(
      objects.filter((o) => o.kind === "LLMProvider"),
      objects.filter((o) => o.kind === "LLMRoute"),
      (namespace, name) =>
        objects.find(
          (o) => o.kind === "Secret" && o.metadata?.namespace === namespace && o.metadata?.name === name,
        ),
    ).result.config!;
    const result = compileAll(objects);
    expect(result.config).toEqual(whole);
    expect(result.refused.size).toBe(0);
  });

  it("holds back only the namespace with an invalid resource; the others go live", () => {
    const before = compileAll(world("team-a", "team-b")).config;
    let objects = replace(world("team-a", "team-b"), unboundedRoute("team-a", 2));
    objects = replace(
      objects,
      route("team-b", "chat", { model: "chat-team-b", targets: [{ provider: "p", model: "mini" }] }, 2),
    );
    const result = compileAll(objects, before);

    expect([...result.refused.keys()]).toEqual(["team-a"]);
    expect(result.refused.get("team-a")![0]).toMatchObject({
      resource: "LLMRoute/team-a/chat",
      reason: "UnboundedOutput",
    });
    const routes = new Map(result.config.routes.map((r) => [r.id, r]));
    // team-a keeps serving what was published; team-b's change is live.
    expect(routes.get("team-a/chat")).toEqual(before.routes.find((r) => r.id === "team-a/chat"));
    expect(routes.get("team-b/chat")!.targets[0]!.model).toBe("mini");
    expect(result.config.providers.map((p) => p.id)).toEqual(["team-a/p", "team-b/p"]);
  });

  it("publishes the valid namespaces even when nothing was published before", () => {
    const objects = replace(world("team-a", "team-b"), unboundedRoute("team-a"));
    const result = compileAll(objects);
    expect(result.config.routes.map((r) => r.id)).toEqual(["team-b/chat"]);
    expect(result.config.providers.map((p) => p.id)).toEqual(["team-b/p"]);
  });

  it("takes a deleted provider out of its routes without holding back the namespace", () => {
    const objects = [
      ...world("team-a"),
      provider("team-a", "doomed", openAiSpec()),
      route("team-a", "pair", {
        model: "pair",
        targets: [
          { provider: "doomed", model: "gpt" },
          { provider: "p", model: "gpt" },
        ],
      }),
      route("team-a", "alone", { model: "alone", targets: [{ provider: "doomed", model: "mini" }] }),
    ];
    const before = compileAll(objects).config;
    const after = [
      ...objects.filter((o) => o.metadata?.name !== "doomed"),
      route("team-a", "other", { model: "other", targets: [{ provider: "p", model: "mini" }] }),
    ];
    const result = compileAll(after, before);

    expect(result.refused.size).toBe(0);
    expect(result.config.providers.map((p) => p.id)).toEqual(["team-a/p"]);
    const routes = new Map(result.config.routes.map((r) => [r.id, r]));
    expect(routes.get("team-a/pair")!.targets.map((t) => t.providerId)).toEqual(["team-a/p"]);
    // The last target gone: the route stays (its name stays claimed) and serves nothing.
    expect(routes.get("team-a/alone")!.targets).toEqual([]);
    expect(routes.has("team-a/other")).toBe(true);
    expect(result.diagnostics.get("LLMRoute/team-a/alone")).toEqual([
      expect.objectContaining({ severity: "warning", reason: "ProviderNotFound" }),
    ]);
  });

  it("refuses the namespace that claims a model name another namespace already serves", () => {
    const before = compileAll(world("team-a", "team-z")).config;
    // team-a sorts first, but team-z served chat-team-z first.
    const objects = replace(
      world("team-a", "team-z"),
      route(
        "team-a",
        "chat",
        { model: "chat-team-a", aliases: ["chat-team-z"], targets: [{ provider: "p", model: "gpt" }] },
        2,
      ),
    );
    const result = compileAll(objects, before);
    expect([...result.refused.keys()]).toEqual(["team-a"]);
    expect(result.diagnostics.get("LLMRoute/team-a/chat")).toEqual([
      expect.objectContaining({
        severity: "error",
        reason: "ModelConflict",
        field: "spec.aliases",
        message: 'model name "chat-team-z" is already served by LLMRoute/team-z/chat',
      }),
    ]);
    expect(result.config).toEqual(before);
  });

  it("gives a name new to both namespaces to the first in order", () => {
    const objects = [
      ...world("team-a", "team-b"),
      route("team-a", "shared", { model: "shared", targets: [{ provider: "p", model: "gpt" }] }),
      route("team-b", "shared", { model: "shared", targets: [{ provider: "p", model: "gpt" }] }),
    ];
    const result = compileAll(objects);
    expect([...result.refused.keys()]).toEqual(["team-b"]);
    expect(result.config.routes.map((r) => r.id)).toEqual(["team-a/chat", "team-a/shared"]);
  });

  it("drops a namespace whose resources are all gone", () => {
    const before = compileAll(world("team-a", "team-b")).config;
    const result = compileAll(world("team-b"), before);
    expect(result.config.routes.map((r) => r.id)).toEqual(["team-b/chat"]);
  });
});
