import {
  embeddingMigrationSchema,
  type EmbeddingMigration,
} from "../../shared/schemas/embedding-migration.js";
import type { CompiledProvider, CompiledRoute } from "../../shared/schemas/gateway-config.js";
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

/** True once the worker cut the store over: from then on spec.route serves the target. */
export function isCutOver(migration: EmbeddingMigration): boolean {
  return migration.status?.phase === "Succeeded" && migration.status.cutoverAt !== undefined;
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
  /** Ids of routes a cutover points at their migration's target (the guard lets them change). */
  cutOver: Set<string>;
}

/**
 * What EmbeddingMigrations do to one namespace's compiled routes:
 * - after cutover (phase Succeeded with cutoverAt), the route serving spec.route embeds with the
 *   target, in step with the stored vectors (afterwards the vector-space guard keeps it there);
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
    if (isCutOver(migration)) {
      result[index] = {
        ...route,
        targets,
        strategy: "priority",
        fallback: { on: [], maxAttempts: targets.length },
      };
      cutOver.add(route.id);
    } else if (migration.spec.target.provider !== undefined && migration.status?.phase !== "Failed") {
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
