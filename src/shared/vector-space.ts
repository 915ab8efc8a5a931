import type { CompiledModel, CompiledProvider, CompiledRoute } from "./schemas/gateway-config.js";

/**
 * The space an embedding model's vectors live in: the upstream model and the vector length.
 * Vectors from two different spaces are not comparable, whichever provider served them.
 */
export interface VectorSpace {
  upstreamModel: string;
  /** Undefined: the model's own default length. */
  dimensions?: number;
}

export function vectorSpaceOf(model: Pick<CompiledModel, "upstreamModel" | "dimensions">): VectorSpace {
  return { upstreamModel: model.upstreamModel, dimensions: model.dimensions };
}

/** `model@dimensions`, e.g. `text-embedding-3-small@1536`: equal keys, comparable vectors. */
export function vectorSpaceKey(space: VectorSpace): string {
  return `${space.upstreamModel}@${space.dimensions ?? "default"}`;
}

/** e.g. `text-embedding-3-small (1536 dimensions)`. */
export function describeVectorSpace(space: VectorSpace): string {
  return `${space.upstreamModel} (${space.dimensions ?? "its default number of"} dimensions)`;
}

/**
 * The vector space an embedding route serves (its targets all serve the same one, which the
 * compiler checks), or undefined for a chat route or a target that does not resolve.
 */
export function routeVectorSpace(
  route: Pick<CompiledRoute, "kind" | "targets">,
  providers: ReadonlyMap<string, CompiledProvider>,
): VectorSpace | undefined {
  if (route.kind !== "embedding") return undefined;
  const target = route.targets[0];
  const model = target && providers.get(target.providerId)?.models.find((m) => m.name === target.model);
  return model ? vectorSpaceOf(model) : undefined;
}
