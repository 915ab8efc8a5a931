import {
  embeddingMigrationSchema,
  type EmbeddingMigration,
} from "../../shared/schemas/embedding-migration.js";
import type { CompiledProvider, CompiledRoute, GatewayConfig } from "../../shared/schemas/gateway-config.js";
import type { WatchedObject } from "../informers/watched-resources.js";

/**
 * The model name the worker of a migration whose target is provider+model embeds through: a route
 * the operator adds for the migration's lifetime. `:` cannot occur in a Kubernetes name, so it
 * never collides with an LLMRoute's.
 */
export function migrationModelName(namespace: string, name: string): string {
  return `embeddingmigration:${namespace}/${name}`;
}

/** Parses a watched EmbeddingMigration; undefined when the object is not one (never from a valid API server). */
export function asMigration(object: WatchedObject): EmbeddingMigration | undefined {
  const parsed = embeddingMigrationSchema.safeParse(object);
  return parsed.success ? parsed.data : undefined;
}

function servesModel(route: CompiledRoute, model: string): boolean {
  return route.model === model || route.aliases.includes(model);
}

/**
 * True while spec.route must serve the target: from the moment the worker asks for the switch
 * (CuttingOver, every row has its new vector) on, through the store's cutover, and after it. A
 * worker resumed after the switch was confirmed keeps it, unless the migration failed.
 */
export function servesTarget(migration: EmbeddingMigration): boolean {
  const status = migration.status;
  if (status?.phase === "CuttingOver") return true;
  if (status?.phase === "Succeeded" && status.cutoverAt !== undefined) return true;
  return status?.queryRoute !== undefined && status.phase !== "Failed";
}

/** A migration that failed after the query route switched, before the store did: the route goes back. */
function switchedBack(migration: EmbeddingMigration): boolean {
  const status = migration.status;
  return status?.phase === "Failed" && status.queryRoute !== undefined && status.cutoverAt === undefined;
}

function sameTargets(a: CompiledRoute["targets"], b: CompiledRoute["targets"]): boolean {
  const key = (targets: CompiledRoute["targets"]) =>
    targets
      .map((t) => `${t.providerId}\u0000${t.model}`)
      .sort()
      .join("\n");
  return key(a) === key(b);
}

/** True when `config` has the migration's spec.route embedding through its target. */
export function publishedServesTarget(
  config: GatewayConfig | undefined,
  migration: EmbeddingMigration,
): boolean {
  if (!config) return false;
  const namespace = migration.metadata.namespace;
  const routes = config.routes.filter((r) => r.namespace === namespace);
  const route = routes.find((r) => servesModel(r, migration.spec.route));
  const targets = targetTargets(migration, config.providers, routes);
  return route !== undefined && targets !== undefined && sameTargets(route.targets, targets);
}

/** The compiled targets a migration's target side names, if they resolve in this namespace. */
function targetTargets(
  migration: EmbeddingMigration,
  providers: readonly CompiledProvider[],
  routes: readonly CompiledRoute[],
): CompiledRoute["targets"] | undefined {
  const { target } = migration.spec;
  if (target.route !== undefined) return routes.find((r) => servesModel(r, target.route!))?.targets;
  const providerId = `${migration.metadata.namespace}/${target.provider}`;
  const model = providers.find((p) => p.id === providerId)?.models.find((m) => m.name === target.model);
  if (model?.kind !== "embedding") return undefined;
  return [{ providerId, model: model.name, weight: 1, priority: 0 }];
}

export interface MigratedRoutes {
  routes: CompiledRoute[];
  /**
   * Ids of routes a migration switches to its target, or back after it failed mid-switch (the
   * guard lets them change).
   */
  cutOver: Set<string>;
}

/**
 * What EmbeddingMigrations do to one namespace's compiled routes:
 * - from CuttingOver on (servesTarget), the route serving spec.route embeds with the target; the
 *   store cuts over only once every gateway serves that (afterwards the vector-space guard keeps
 *   it there); a migration that fails before the store's cutover takes the route back;
 * - while a migration to a provider+model target runs, a route for its worker
 *   (migrationModelName) reaches that model under spec.route's policy and consumers, so data
 *   residency applies to the re-embedding too and a forbidden target is never called.
 */
export function applyMigrations(
  namespace: string,
  providers: readonly CompiledProvider[],
  routes: readonly CompiledRoute[],
  migrations: readonly WatchedObject[],
): MigratedRoutes {
  const result = [...routes];
  const cutOver = new Set<string>();
  const parsed = migrations
    .map(asMigration)
    .filter((m): m is EmbeddingMigration => m !== undefined)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const migration of parsed) {
    const index = result.findIndex((r) => servesModel(r, migration.spec.route));
    const route = result[index];
    const targets = targetTargets(migration, providers, routes);
    if (!route || route.kind !== "embedding" || !targets) continue;
    if (switchedBack(migration)) {
      cutOver.add(route.id);
    } else if (servesTarget(migration)) {
      result[index] = {
        ...route,
        targets,
        strategy: "priority",
        fallback: { on: [], maxAttempts: targets.length },
      };
      cutOver.add(route.id);
    }
    const phase = migration.status?.phase;
    // The worker's route lives until the store cut over: it embeds rows written during CuttingOver too.
    if (migration.spec.target.provider !== undefined && phase !== "Failed" && phase !== "Succeeded") {
      const name = `embeddingmigration:${migration.metadata.name}`;
      result.push({
        ...route,
        id: `${namespace}/${name}`,
        name,
        generation: undefined,
        model: migrationModelName(namespace, migration.metadata.name),
        aliases: [],
        strategy: "priority",
        targets,
        fallback: { on: [], maxAttempts: 1 },
        cache: undefined,
      });
    }
  }
  return { routes: result, cutOver };
}
