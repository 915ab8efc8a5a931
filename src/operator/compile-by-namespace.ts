import { hashConfig, type Diagnostic } from "../shared/compile.js";
import type { CompiledProvider, CompiledRoute, GatewayConfig } from "../shared/schemas/gateway-config.js";
import { compileWatched } from "./compile-watched.js";
import type { WatchedObject } from "./informers/watched-resources.js";
import { applyMigrations } from "./migration/migration-routes.js";
import { ACKNOWLEDGE_VECTOR_SPACE_CHANGE, guardVectorSpaces } from "./vector-space-guard.js";

interface NamespacePart {
  providers: CompiledProvider[];
  routes: CompiledRoute[];
  /** True when the part comes from this compile, false when it is the last good one kept. */
  fresh: boolean;
}

export interface NamespacedCompile {
  /** Always a config: refused namespaces contribute their last good part (or nothing). */
  config: GatewayConfig;
  compiledGenerations: Map<string, number | undefined>;
  /** `Kind/namespace/name` → diagnostics naming that resource. */
  diagnostics: Map<string, Diagnostic[]>;
  /** Namespace → the errors that refused its compile; absent for namespaces that went live. */
  refused: Map<string, Diagnostic[]>;
}

function namespaceOf(object: WatchedObject): string {
  return object.metadata?.namespace ?? "";
}

function groupByNamespace(objects: readonly WatchedObject[]): Map<string, WatchedObject[]> {
  const groups = new Map<string, WatchedObject[]>();
  for (const object of objects) {
    const list = groups.get(namespaceOf(object)) ?? [];
    list.push(object);
    groups.set(namespaceOf(object), list);
  }
  return groups;
}

function lastGoodPart(published: GatewayConfig | undefined, namespace: string): NamespacePart {
  return {
    providers: published?.providers.filter((p) => p.namespace === namespace) ?? [],
    routes: published?.routes.filter((r) => r.namespace === namespace) ?? [],
    fresh: false,
  };
}

/** Route id → the value of its acknowledge-vector-space-change annotation. */
function acknowledgements(routes: readonly WatchedObject[]): Map<string, string> {
  const acknowledged = new Map<string, string>();
  for (const route of routes) {
    const value = route.metadata?.annotations?.[ACKNOWLEDGE_VECTOR_SPACE_CHANGE];
    if (value) acknowledged.set(`${namespaceOf(route)}/${route.metadata?.name}`, value.trim());
  }
  return acknowledged;
}

function modelNames(route: CompiledRoute): string[] {
  return [route.model, ...route.aliases];
}

/**
 * A model name claimed by routes of two namespaces. The namespace that served it in the
 * published config keeps it (first come, first served); a name new to both goes to the
 * namespace first in order. The loser is always a fresh part: last good parts were published
 * together, so they never conflict with each other.
 */
function findConflict(
  parts: Map<string, NamespacePart>,
  publishedOwners: Map<string, string>,
): { loser: string; route: CompiledRoute; name: string; owner: CompiledRoute } | undefined {
  const claims = new Map<string, CompiledRoute>();
  for (const [namespace, part] of parts) {
    for (const route of part.routes) {
      for (const name of modelNames(route)) {
        const other = claims.get(name);
        if (!other) {
          claims.set(name, route);
          continue;
        }
        const otherPart = parts.get(other.namespace)!;
        // Only a fresh part can bring a conflict in; one already published is the gateways' to settle.
        if (!part.fresh && !otherPart.fresh) continue;
        const otherWins = !otherPart.fresh || (part.fresh && publishedOwners.get(name) !== namespace);
        return otherWins
          ? { loser: namespace, route, name, owner: other }
          : { loser: other.namespace, route: other, name, owner: route };
      }
    }
  }
  return undefined;
}

/**
 * Compiles each namespace on its own, so an invalid resource holds back only its own namespace:
 * that namespace keeps serving its part of the last published config, and every other namespace
 * goes live. Routes reference providers of their own namespace only, so the parts are
 * independent except for model names, which are global; a conflict across namespaces refuses the
 * namespace that claimed the name last. With every namespace valid the result equals one
 * compile of everything, version included. An embedding route whose vector space would change
 * silently is refused on its own (vector-space-guard.ts): its served form stays, unless an
 * EmbeddingMigration's cutover made the change (migration-routes.ts).
 */
export function compileByNamespace(
  providers: readonly WatchedObject[],
  routes: readonly WatchedObject[],
  getSecret: (namespace: string, name: string) => WatchedObject | undefined,
  published: GatewayConfig | undefined,
  migrations: readonly WatchedObject[] = [],
): NamespacedCompile {
  const providersByNamespace = groupByNamespace(providers);
  const routesByNamespace = groupByNamespace(routes);
  const migrationsByNamespace = groupByNamespace(migrations);
  const namespaces = [...new Set([...providersByNamespace.keys(), ...routesByNamespace.keys()])].sort();

  const parts = new Map<string, NamespacePart>();
  const compiledGenerations = new Map<string, number | undefined>();
  const diagnostics = new Map<string, Diagnostic[]>();
  const refused = new Map<string, Diagnostic[]>();
  for (const namespace of namespaces) {
    const compiled = compileWatched(
      providersByNamespace.get(namespace) ?? [],
      routesByNamespace.get(namespace) ?? [],
      getSecret,
      { unversioned: true, dropUnresolvedTargets: true },
    );
    for (const [key, generation] of compiled.compiledGenerations) compiledGenerations.set(key, generation);
    for (const [key, list] of compiled.diagnostics) diagnostics.set(key, list);
    const config = compiled.result.config;
    const migrated =
      config &&
      applyMigrations(namespace, config.providers, config.routes, migrationsByNamespace.get(namespace) ?? []);
    const guarded =
      config &&
      migrated &&
      guardVectorSpaces({
        namespace,
        providers: config.providers,
        routes: migrated.routes,
        published,
        acknowledgements: acknowledgements(routesByNamespace.get(namespace) ?? []),
        cutOver: migrated.cutOver,
      });
    for (const d of guarded?.diagnostics ?? [])
      diagnostics.set(d.resource, [...(diagnostics.get(d.resource) ?? []), d]);
    if (config && guarded && !guarded.holdNamespace) {
      parts.set(namespace, { providers: config.providers, routes: guarded.routes, fresh: true });
    } else if (guarded) {
      refused.set(namespace, guarded.diagnostics);
      parts.set(namespace, lastGoodPart(published, namespace));
    } else {
      refused.set(namespace, compiled.blockingErrors);
      parts.set(namespace, lastGoodPart(published, namespace));
    }
  }

  const publishedOwners = new Map<string, string>();
  for (const route of published?.routes ?? [])
    for (const name of modelNames(route)) publishedOwners.set(name, route.namespace);
  for (let conflict = findConflict(parts, publishedOwners); conflict;) {
    const resource = `LLMRoute/${conflict.route.namespace}/${conflict.route.name}`;
    const error: Diagnostic = {
      severity: "error",
      resource,
      field: conflict.name === conflict.route.model ? "spec.model" : "spec.aliases",
      reason: "ModelConflict",
      message: `model name "${conflict.name}" is already served by LLMRoute/${conflict.owner.namespace}/${conflict.owner.name}`,
    };
    diagnostics.set(resource, [...(diagnostics.get(resource) ?? []), error]);
    refused.set(conflict.loser, [error]);
    parts.set(conflict.loser, lastGoodPart(published, conflict.loser));
    conflict = findConflict(parts, publishedOwners);
  }

  const byId = <T extends { id: string }>(a: T, b: T) => a.id.localeCompare(b.id);
  const body = {
    providers: [...parts.values()].flatMap((p) => p.providers).sort(byId),
    routes: [...parts.values()].flatMap((p) => p.routes).sort(byId),
  };
  return { config: { version: hashConfig(body), ...body }, compiledGenerations, diagnostics, refused };
}
