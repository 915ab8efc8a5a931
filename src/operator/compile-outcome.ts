import { hashConfig, type Diagnostic } from "../shared/compile.js";
import { residencyAllows } from "../shared/residency-policy.js";
import type { CompiledProvider, CompiledRoute, GatewayConfig } from "../shared/schemas/gateway-config.js";

/**
 * What the last compile of the watched resources concluded, shared by the per-kind controllers so
 * each can derive its resources' conditions without compiling again.
 */
export interface CompileOutcome {
  /** `Kind/namespace/name` → the metadata.generation that compile saw. */
  compiledGenerations: Map<string, number | undefined>;
  /** `Kind/namespace/name` → diagnostics naming that resource. */
  diagnostics: Map<string, Diagnostic[]>;
  /** Namespace → the errors that refused its last compile (it keeps its last good part). */
  blockingErrors: Map<string, Diagnostic[]>;
  /** The snapshot the gateways are told to serve (the last good one). */
  published?: GatewayConfig;
  /** Published providers and routes by id (`namespace/name`). */
  publishedProviders: Map<string, CompiledProvider>;
  publishedRoutes: Map<string, CompiledRoute>;
  /**
   * Provider id → version of the first snapshot that carried its current compiled form, for
   * providers whose form changed while this operator led (others keep what status says).
   */
  introducedIn: Map<string, string>;
}

export function emptyCompileOutcome(): CompileOutcome {
  return {
    compiledGenerations: new Map(),
    diagnostics: new Map(),
    blockingErrors: new Map(),
    publishedProviders: new Map(),
    publishedRoutes: new Map(),
    introducedIn: new Map(),
  };
}

export function resourceKey(
  kind: "LLMProvider" | "LLMRoute" | "EmbeddingMigration",
  namespace: string,
  name: string,
): string {
  return `${kind}/${namespace}/${name}`;
}

function providerHash(provider: CompiledProvider): string {
  return hashConfig({ providers: [provider], routes: [] });
}

/** Records a newly published config, noting which providers' compiled form it changed. */
export function setPublished(outcome: CompileOutcome, config: GatewayConfig): void {
  if (outcome.published?.version === config.version) return;
  const previous = outcome.publishedProviders;
  outcome.published = config;
  outcome.publishedProviders = new Map(config.providers.map((p) => [p.id, p]));
  outcome.publishedRoutes = new Map(config.routes.map((r) => [r.id, r]));
  for (const provider of config.providers) {
    const before = previous.get(provider.id);
    if (!before || providerHash(before) !== providerHash(provider))
      outcome.introducedIn.set(provider.id, config.version);
  }
}

/**
 * `provider/model` → whether the published route's data-residency policy admits that target, as
 * the gateways decide it (targets the published route lacks are absent).
 */
export function publishedTargetAllowance(outcome: CompileOutcome, routeId: string): Map<string, boolean> {
  const route = outcome.publishedRoutes.get(routeId);
  const allowance = new Map<string, boolean>();
  for (const target of route?.targets ?? []) {
    const provider = outcome.publishedProviders.get(target.providerId);
    const name = target.providerId.slice(target.providerId.indexOf("/") + 1);
    if (provider) allowance.set(`${name}/${target.model}`, residencyAllows(route!, provider));
  }
  return allowance;
}

/**
 * Everything from the compile outcome that one resource's status is derived from, as a string:
 * after a compile only resources whose string changed need their status re-derived.
 */
export function statusInputs(outcome: CompileOutcome, key: string): string {
  const [kind, namespace, name] = key.split("/") as [string, string, string];
  const id = `${namespace}/${name}`;
  const published =
    kind === "LLMProvider" ? outcome.publishedProviders.get(id) : outcome.publishedRoutes.get(id);
  return JSON.stringify([
    outcome.compiledGenerations.get(key) ?? null,
    (outcome.diagnostics.get(key) ?? []).map((d) => [d.severity, d.reason, d.message]),
    published ? (published.generation ?? null) : "absent",
    kind === "LLMProvider"
      ? (outcome.introducedIn.get(id) ?? null)
      : [...publishedTargetAllowance(outcome, id)],
  ]);
}

/** The refused namespaces' errors, which their not-yet-published resources' Ready quotes. */
export function blockingInputs(outcome: CompileOutcome): string {
  return JSON.stringify(
    [...outcome.blockingErrors].map(([namespace, errors]) => [
      namespace,
      errors.map((d) => [d.resource, d.message]),
    ]),
  );
}
