import type { Diagnostic } from "../shared/compile.js";
import type { CompiledProvider, CompiledRoute, GatewayConfig } from "../shared/schemas/gateway-config.js";
import {
  describeVectorSpace,
  routeVectorSpace,
  vectorSpaceKey,
  type VectorSpace,
} from "../shared/vector-space.js";

/**
 * Annotation on an LLMRoute that accepts one change of its vector space without a migration; its
 * value names the space accepted (`model@dimensions`), so it cannot wave through a later change.
 */
export const ACKNOWLEDGE_VECTOR_SPACE_CHANGE = "llm.switchboard.dev/acknowledge-vector-space-change";

export const VECTOR_SPACE_CHANGE_REFUSED = "VectorSpaceChangeRefused";

export interface VectorSpaceGuardInput {
  namespace: string;
  /** The namespace's freshly compiled part. */
  providers: readonly CompiledProvider[];
  routes: readonly CompiledRoute[];
  published: GatewayConfig | undefined;
  /** Route id → value of its acknowledge annotation. */
  acknowledgements: ReadonlyMap<string, string>;
  /** Route ids an EmbeddingMigration's cutover points at its target: that is the sanctioned change. */
  cutOver: ReadonlySet<string>;
}

export interface VectorSpaceGuardResult {
  /** The fresh routes, a refused one replaced by the form the gateways serve now. */
  routes: CompiledRoute[];
  /** One error per refused route. */
  diagnostics: Diagnostic[];
  /**
   * True when a refused route's served form cannot stay on its own because the provider models it
   * names changed too: then the whole namespace must keep its last good part.
   */
  holdNamespace: boolean;
}

function refusal(route: CompiledRoute, served: VectorSpace, wanted: VectorSpace): Diagnostic {
  const resource = `LLMRoute/${route.namespace}/${route.name}`;
  return {
    severity: "error",
    resource,
    field: "spec.targets",
    reason: VECTOR_SPACE_CHANGE_REFUSED,
    message:
      `embedding model "${route.model}" serves ${describeVectorSpace(served)}; this change would switch it to ` +
      `${describeVectorSpace(wanted)}, whose vectors cannot be compared with the ones already stored, so ` +
      `${served.upstreamModel} keeps serving. To re-embed the stored vectors and switch queries with them, apply an ` +
      `EmbeddingMigration with spec.route: "${route.model}"; to accept vectors that no longer match, run ` +
      `kubectl annotate llmroute ${route.name} -n ${route.namespace} ` +
      `${ACKNOWLEDGE_VECTOR_SPACE_CHANGE}=${vectorSpaceKey(wanted)} --overwrite`,
  };
}

/** True when every target of the route names a provider model that serves the space `key`. */
function stillServes(
  route: CompiledRoute,
  providers: ReadonlyMap<string, CompiledProvider>,
  key: string,
): boolean {
  return route.targets.every((target) => {
    const space = routeVectorSpace({ kind: route.kind, targets: [target] }, providers);
    return space !== undefined && vectorSpaceKey(space) === key;
  });
}

/**
 * An embedding route never changes vector space silently. A fresh route whose vector space differs
 * from the one its published form serves (an edit of its targets, or of the provider models they
 * name) is refused unless a migration's cutover makes the change or the route acknowledges exactly
 * the new space: the published form keeps serving, and the rest of the namespace goes live.
 */
export function guardVectorSpaces(input: VectorSpaceGuardInput): VectorSpaceGuardResult {
  const publishedRoutes = new Map(
    (input.published?.routes ?? []).filter((r) => r.namespace === input.namespace).map((r) => [r.id, r]),
  );
  const publishedProviders = new Map((input.published?.providers ?? []).map((p) => [p.id, p]));
  const freshProviders = new Map(input.providers.map((p) => [p.id, p]));
  const routes: CompiledRoute[] = [];
  const diagnostics: Diagnostic[] = [];
  let holdNamespace = false;
  for (const route of input.routes) {
    const before = publishedRoutes.get(route.id);
    const served = before && routeVectorSpace(before, publishedProviders);
    const wanted = routeVectorSpace(route, freshProviders);
    const changed = served && wanted && vectorSpaceKey(served) !== vectorSpaceKey(wanted);
    if (
      !changed ||
      input.cutOver.has(route.id) ||
      input.acknowledgements.get(route.id) === vectorSpaceKey(wanted)
    ) {
      routes.push(route);
      continue;
    }
    diagnostics.push(refusal(route, served, wanted));
    if (!stillServes(before, freshProviders, vectorSpaceKey(served))) holdNamespace = true;
    routes.push(before);
  }
  return { routes, diagnostics, holdNamespace };
}
