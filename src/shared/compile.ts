import { canonicalJson } from "./canonical-json.js";
import { sha256Hex } from "./digest.js";
import type { z } from "zod";
import { durationToMs, GROUP_VERSION } from "./schemas/common.js";
import {
  type CompiledConsumer,
  type CompiledModel,
  type CompiledProvider,
  type CompiledRoute,
  type GatewayConfig,
  type ResolvedCredentials,
} from "./schemas/gateway-config.js";
import {
  llmProviderSchema,
  TOKENS_PER_MINUTE_NEEDS_OUTPUT_BOUND,
  TEXT_COMPLETION_TYPES,
  TEXT_COMPLETIONS_NEED_TYPE,
  type LLMProvider,
} from "./schemas/llm-provider.js";
import { llmRouteSchema, type LLMRoute } from "./schemas/llm-route.js";
import { readSecretKey, secretSchema, type Secret } from "./schemas/secret.js";
import { embeddingMigrationSchema } from "./schemas/embedding-migration.js";
import { vectorSpaceKey, vectorSpaceOf } from "./vector-space.js";
import { findUnknownFields } from "./unknown-fields.js";
import {
  describePolicy,
  describeResidency,
  RESIDENCY_EXCLUDES_ALL_TARGETS,
  residencyAllows,
} from "./residency-policy.js";
import { compileTeams } from "./compile-teams.js";

/** One object to compile, with where it came from (a file path, or the cluster). */
export interface SourcedObject {
  object: unknown;
  source?: string;
}

export interface Diagnostic {
  severity: "error" | "warning";
  /** `Kind/namespace/name` of the offending resource. */
  resource: string;
  source?: string;
  /** Dotted path of the offending field, e.g. `spec.targets[0].provider`. */
  field?: string;
  /** CamelCase reason, usable as a condition reason. */
  reason: string;
  message: string;
}

export interface CompileResult {
  /** Present only when there is no error-severity diagnostic. */
  config?: GatewayConfig;
  diagnostics: Diagnostic[];
  providers: LLMProvider[];
  routes: LLMRoute[];
}

export interface CompileOptions {
  /** Namespace for objects whose metadata has none (local files). */
  defaultNamespace?: string;
  /** Leave `version` empty: a caller that merges several compiles hashes the merged config once. */
  unversioned?: boolean;
  /**
   * The operator's mode: a target whose LLMProvider or model does not exist is left out of its
   * route (a warning the route's Ready reports) instead of refusing the compile, so deleting a
   * provider takes effect at once. Local manifests keep refusing: a file edit is one atomic change.
   */
  dropUnresolvedTargets?: boolean;
}

const DEFAULTS = {
  timeouts: { connect: "10s", firstToken: "60s", idle: "60s", total: "600s" },
  // Sized for LLM streams, which hold a connection for their whole length (docs/limits.md).
  connectionPool: { maxConnections: 1024, maxQueued: 256, queueTimeout: "5s" },
  healthCheck: { interval: "30s", timeout: "5s", probe: "models" as const },
  circuitBreaker: { failureThreshold: 5, windowSeconds: 60, openSeconds: 30, halfOpenRequests: 1 },
  retries: { attempts: 1, backoff: "200ms", maxBackoff: "5s", respectRetryAfter: true },
  fallbackOn: ["rate_limit", "upstream_unavailable", "timeout"] as const,
};

const ENDPOINT_REQUIRED: ReadonlySet<string> = new Set(["openai-compatible", "azure-openai"]);

function describeZodPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    return acc ? `${acc}.${String(part)}` : String(part);
  }, "");
}

function resourceId(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export function hashConfig(config: Omit<GatewayConfig, "version">): string {
  return sha256Hex(canonicalJson(config)).slice(0, 16);
}

function parseAs<S extends z.ZodType>(
  schema: S,
  item: SourcedObject,
  kind: string,
  namespace: string,
  diagnostics: Diagnostic[],
): z.infer<S> | undefined {
  const parsed = schema.safeParse(item.object);
  const unknown = findUnknownFields(schema, item.object);
  if (parsed.success && unknown.length === 0) return parsed.data;
  const meta = (item.object as { metadata?: { name?: string } }).metadata;
  const fail = (field: string, reason: string, message: string) =>
    diagnostics.push({
      severity: "error",
      resource: resourceId(kind, namespace, meta?.name ?? "<unnamed>"),
      source: item.source,
      field,
      reason,
      message,
    });
  for (const { field, message } of unknown) fail(field, "UnknownField", message);
  for (const issue of parsed.error?.issues ?? []) {
    const field = describeZodPath(issue.path);
    fail(field, "InvalidSpec", `${field || "object"}: ${issue.message}`);
  }
  return undefined;
}

function resolveCredentials(
  provider: LLMProvider,
  namespace: string,
  secrets: Map<string, Secret>,
): { credentials: ResolvedCredentials; diagnostic?: Omit<Diagnostic, "resource" | "source"> } {
  const creds = provider.spec.credentials;
  if (creds.workloadIdentity) return { credentials: { mode: "workloadIdentity", ...creds.workloadIdentity } };
  if (creds.none) return { credentials: { mode: "none" } };
  const ref = creds.secretRef!;
  const secret = secrets.get(`${namespace}/${ref.name}`);
  if (!secret) {
    const message = `Secret "${ref.name}" not found in namespace "${namespace}"; create it or fix spec.credentials.secretRef.name`;
    return {
      credentials: { mode: "unresolved", reason: "SecretNotFound", message },
      diagnostic: {
        severity: "warning",
        field: "spec.credentials.secretRef.name",
        reason: "SecretNotFound",
        message,
      },
    };
  }
  const value = readSecretKey(secret, ref.key);
  if (value === undefined || value.trim() === "") {
    const message = `Secret "${ref.name}" has no key "${ref.key}"; add it or fix spec.credentials.secretRef.key`;
    return {
      credentials: { mode: "unresolved", reason: "KeyNotFound", message },
      diagnostic: {
        severity: "warning",
        field: "spec.credentials.secretRef.key",
        reason: "KeyNotFound",
        message,
      },
    };
  }
  return { credentials: { mode: "apiKey", apiKey: value.trim() } };
}

function checkProviderRules(provider: LLMProvider): Array<{ field: string; message: string }> {
  const problems: Array<{ field: string; message: string }> = [];
  const { spec } = provider;
  if (ENDPOINT_REQUIRED.has(spec.type) && !spec.endpoint) {
    problems.push({
      field: "spec.endpoint",
      message: `spec.endpoint is required when spec.type is ${spec.type}`,
    });
  }
  const modes = ["secretRef", "workloadIdentity", "none"].filter(
    (mode) => spec.credentials[mode as keyof typeof spec.credentials] !== undefined,
  );
  if (modes.length !== 1) {
    problems.push({
      field: "spec.credentials",
      message: "spec.credentials must set exactly one of secretRef, workloadIdentity or none",
    });
  }
  if (spec.type === "vertex" && (!spec.project || !spec.region)) {
    problems.push({
      field: "spec.project",
      message: "spec.project and spec.region are required when spec.type is vertex",
    });
  }
  if (spec.type === "bedrock" && !spec.region) {
    problems.push({ field: "spec.region", message: "spec.region is required when spec.type is bedrock" });
  }
  if (spec.limits?.tokensPerMinute !== undefined && spec.models.some((m) => !hasOutputBound(m))) {
    problems.push({ field: "spec.limits.tokensPerMinute", message: TOKENS_PER_MINUTE_NEEDS_OUTPUT_BOUND });
  }
  if (
    !(TEXT_COMPLETION_TYPES as readonly string[]).includes(spec.type) &&
    spec.models.some((m) => m.textCompletions)
  ) {
    problems.push({ field: "spec.models", message: TEXT_COMPLETIONS_NEED_TYPE });
  }
  const seen = new Set<string>();
  spec.models.forEach((model, index) => {
    if (seen.has(model.name)) {
      problems.push({
        field: `spec.models[${index}].name`,
        message: `model name "${model.name}" is listed twice in spec.models`,
      });
    }
    seen.add(model.name);
  });
  return problems;
}

/** vLLM, Ollama and most OpenAI-compatible servers serve the API under /v1, which the URL must name. */
function endpointPathWarning(provider: LLMProvider): string | undefined {
  const { type, endpoint } = provider.spec;
  if (type !== "openai-compatible" || !endpoint) return undefined;
  if (new URL(endpoint).pathname.replace(/\/+$/, "") !== "") return undefined;
  return (
    `spec.endpoint ${endpoint} has no path, so requests go to ${endpoint.replace(/\/+$/, "")}/chat/completions; ` +
    `OpenAI-compatible servers (vLLM, Ollama) serve the API under /v1: write ${endpoint.replace(/\/+$/, "")}/v1`
  );
}

/** Whether the most a chat answer may use is known (embeddings answer with no tokens). */
function hasOutputBound(model: { kind?: string; maxOutputTokens?: number; contextWindow?: number }): boolean {
  return (
    model.kind === "embedding" || model.maxOutputTokens !== undefined || model.contextWindow !== undefined
  );
}

function compileModel(model: LLMProvider["spec"]["models"][number]): CompiledModel {
  const kind = model.kind ?? "chat";
  return {
    name: model.name,
    upstreamModel: model.providerModel ?? model.name,
    kind,
    contextWindow: model.contextWindow,
    maxOutputTokens: model.maxOutputTokens,
    dimensions: model.dimensions,
    supportsTools: model.supportsTools ?? kind === "chat",
    ...(model.textCompletions ? { textCompletions: true } : {}),
    pricing: model.pricing
      ? { inputPer1M: model.pricing.inputPer1M, outputPer1M: model.pricing.outputPer1M ?? 0 }
      : undefined,
  };
}

function compileProvider(
  provider: LLMProvider,
  namespace: string,
  credentials: ResolvedCredentials,
): CompiledProvider {
  const { spec } = provider;
  const timeouts = { ...DEFAULTS.timeouts, ...spec.timeouts };
  const health = { ...DEFAULTS.healthCheck, ...spec.healthCheck };
  const pool = { ...DEFAULTS.connectionPool, ...spec.connectionPool };
  return {
    id: `${namespace}/${provider.metadata.name}`,
    name: provider.metadata.name,
    namespace,
    generation: provider.metadata.generation,
    type: spec.type,
    endpoint: spec.endpoint?.replace(/\/+$/, ""),
    region: spec.region,
    project: spec.project,
    apiVersion: spec.apiVersion,
    credentials,
    models: spec.models.map(compileModel),
    dataResidency: spec.dataResidency,
    limits: { ...spec.limits },
    timeouts: {
      connectMs: durationToMs(timeouts.connect),
      firstTokenMs: durationToMs(timeouts.firstToken),
      idleMs: durationToMs(timeouts.idle),
      totalMs: durationToMs(timeouts.total),
    },
    connectionPool: {
      maxConnections: pool.maxConnections,
      maxQueued: pool.maxQueued,
      queueTimeoutMs: durationToMs(pool.queueTimeout),
    },
    healthCheck: {
      intervalMs: durationToMs(health.interval),
      timeoutMs: durationToMs(health.timeout),
      probe: health.probe,
    },
    circuitBreaker: { ...DEFAULTS.circuitBreaker, ...spec.circuitBreaker },
  };
}

function apiKeyDigest(value: string): string {
  const prefixed = /^sha256:([0-9a-f]{64})$/.exec(value);
  if (prefixed) return prefixed[1]!;
  return sha256Hex(value);
}

/** What a document that is not ours looks like, in words, for the IgnoredKind warning. */
function describeDocument(apiVersion: unknown, kind: unknown): string {
  const version = typeof apiVersion === "string" ? apiVersion : undefined;
  const kindName = typeof kind === "string" ? kind : undefined;
  if (version && kindName) return `${version} ${kindName}`;
  if (kindName) return `a ${kindName} without apiVersion`;
  if (version) return `a ${version} document without kind`;
  return "a YAML document with neither apiVersion nor kind (not a Kubernetes resource)";
}

export function compile(items: SourcedObject[], options: CompileOptions = {}): CompileResult {
  const defaultNamespace = options.defaultNamespace ?? "default";
  const diagnostics: Diagnostic[] = [];
  const secrets = new Map<string, Secret>();
  const providers: Array<{ resource: LLMProvider; source?: string; namespace: string }> = [];
  const routes: Array<{ resource: LLMRoute; source?: string; namespace: string }> = [];

  for (const item of items) {
    const obj = item.object as {
      apiVersion?: unknown;
      kind?: unknown;
      metadata?: { name?: string; namespace?: string };
    };
    if (!obj || typeof obj !== "object") continue;
    const namespace = obj.metadata?.namespace ?? defaultNamespace;
    const kind = typeof obj.kind === "string" ? obj.kind : "document";
    if (obj.apiVersion === "v1" && kind === "Secret") {
      const secret = parseAs(secretSchema, item, kind, namespace, diagnostics);
      if (secret) secrets.set(`${namespace}/${secret.metadata.name}`, secret);
    } else if (obj.apiVersion === GROUP_VERSION && kind === "LLMProvider") {
      const resource = parseAs(llmProviderSchema, item, kind, namespace, diagnostics);
      if (resource) providers.push({ resource, source: item.source, namespace });
    } else if (obj.apiVersion === GROUP_VERSION && kind === "LLMRoute") {
      const resource = parseAs(llmRouteSchema, item, kind, namespace, diagnostics);
      if (resource) routes.push({ resource, source: item.source, namespace });
    } else if (obj.apiVersion === GROUP_VERSION && kind === "EmbeddingMigration") {
      parseAs(embeddingMigrationSchema, item, kind, namespace, diagnostics);
    } else {
      diagnostics.push({
        severity: "warning",
        resource: resourceId(kind, namespace, obj.metadata?.name ?? "<unnamed>"),
        source: item.source,
        reason: "IgnoredKind",
        message: `ignored ${describeDocument(obj.apiVersion, obj.kind)}: Switchboard reads only ${GROUP_VERSION} resources and v1 Secrets`,
      });
    }
  }

  const compiledProviders = new Map<string, CompiledProvider>();
  for (const { resource, source, namespace } of providers) {
    const id = resourceId("LLMProvider", namespace, resource.metadata.name);
    if (compiledProviders.has(`${namespace}/${resource.metadata.name}`)) {
      diagnostics.push({
        severity: "error",
        resource: id,
        source,
        reason: "Duplicate",
        message: `${id} is defined twice`,
      });
      continue;
    }
    const problems = checkProviderRules(resource);
    for (const problem of problems) {
      diagnostics.push({
        severity: "error",
        resource: id,
        source,
        field: problem.field,
        reason: "InvalidSpec",
        message: problem.message,
      });
    }
    if (problems.length > 0) continue;
    const endpointWarning = endpointPathWarning(resource);
    if (endpointWarning) {
      diagnostics.push({
        severity: "warning",
        resource: id,
        source,
        field: "spec.endpoint",
        reason: "EndpointWithoutPath",
        message: endpointWarning,
      });
    }
    const { credentials, diagnostic } = resolveCredentials(resource, namespace, secrets);
    if (diagnostic) diagnostics.push({ ...diagnostic, resource: id, source });
    compiledProviders.set(
      `${namespace}/${resource.metadata.name}`,
      compileProvider(resource, namespace, credentials),
    );
  }

  const compiledRoutes: CompiledRoute[] = [];
  const modelOwners = new Map<string, string>();
  const { teams, problems: teamProblems } = compileTeams(routes);
  for (const problem of teamProblems) {
    diagnostics.push({
      severity: "error",
      resource: resourceId("LLMRoute", problem.namespace, problem.route),
      source: problem.source,
      field: problem.field,
      reason: problem.reason,
      message: problem.message,
    });
  }
  for (const { resource, source, namespace } of routes) {
    const id = resourceId("LLMRoute", namespace, resource.metadata.name);
    let failed = false;
    const fail = (field: string, reason: string, message: string) => {
      failed = true;
      diagnostics.push({ severity: "error", resource: id, source, field, reason, message });
    };
    const unresolved = (field: string, reason: string, message: string) =>
      options.dropUnresolvedTargets
        ? diagnostics.push({ severity: "warning", resource: id, source, field, reason, message })
        : fail(field, reason, message);
    const { spec } = resource;
    for (const [index, name] of [spec.model, ...(spec.aliases ?? [])].entries()) {
      const owner = modelOwners.get(name);
      const field = index === 0 ? "spec.model" : `spec.aliases[${index - 1}]`;
      if (owner && owner !== id)
        fail(field, "ModelConflict", `model name "${name}" is already served by ${owner}`);
      else modelOwners.set(name, id);
    }
    const kinds = new Set<string>();
    const targets: CompiledRoute["targets"] = [];
    spec.targets.forEach((target, index) => {
      const provider = compiledProviders.get(`${namespace}/${target.provider}`);
      if (!provider) {
        unresolved(
          `spec.targets[${index}].provider`,
          "ProviderNotFound",
          `LLMProvider "${target.provider}" not found in namespace "${namespace}" (or it is invalid)`,
        );
        return;
      }
      const model = provider.models.find((m) => m.name === target.model);
      if (!model) {
        unresolved(
          `spec.targets[${index}].model`,
          "ModelNotFound",
          `LLMProvider "${target.provider}" has no model "${target.model}"; it serves ${provider.models.map((m) => `"${m.name}"`).join(", ")}`,
        );
        return;
      }
      kinds.add(model.kind);
      targets.push({
        providerId: provider.id,
        model: model.name,
        weight: target.weight ?? 1,
        priority: target.priority ?? index,
      });
    });
    if (kinds.size > 1)
      fail(
        "spec.targets",
        "MixedKinds",
        "spec.targets mixes chat and embedding models; use one kind per route",
      );
    const kind = kinds.has("embedding") ? "embedding" : "chat";
    if (kind === "embedding" && targets.length > 1) {
      const served = new Set(
        targets.map((t) => {
          const model = compiledProviders.get(t.providerId)!.models.find((m) => m.name === t.model)!;
          return vectorSpaceKey(vectorSpaceOf(model));
        }),
      );
      if (served.size > 1) {
        fail(
          "spec.targets",
          "IncomparableEmbeddings",
          "an embedding route's targets must all serve the same model and dimensions: vectors from different models are not comparable",
        );
      }
    }
    if (failed) continue;
    const policy = { dataResidency: spec.policy?.dataResidency };
    const excluded = targets.filter(
      (t) => !residencyAllows({ policy }, compiledProviders.get(t.providerId)!),
    );
    if (targets.length > 0 && excluded.length === targets.length) {
      diagnostics.push({
        severity: "warning",
        resource: id,
        source,
        field: "spec.policy.dataResidency",
        reason: RESIDENCY_EXCLUDES_ALL_TARGETS,
        message:
          `spec.policy.dataResidency (${describePolicy({ policy })}) admits none of the targets: ` +
          excluded
            .map(
              (t) =>
                `${t.providerId}/${t.model} (${describeResidency(compiledProviders.get(t.providerId)!)})`,
            )
            .join(", ") +
          "; every call is refused with 403. Widen the policy, or declare spec.dataResidency on a provider that meets it",
      });
    }
    if (spec.fallback?.on !== undefined) {
      diagnostics.push({
        severity: "warning",
        resource: id,
        source,
        field: "spec.fallback.on",
        reason: "DeprecatedField",
        message: `spec.fallback.on is deprecated (an unquoted on: key means true to kubectl and Helm); rename it to onErrors`,
      });
    }
    const retries = { ...DEFAULTS.retries, ...spec.retries };
    const consumers: CompiledConsumer[] = [];
    (spec.consumers ?? []).forEach((consumer, index) => {
      let apiKeySha256: string | undefined;
      if (consumer.apiKeySecretRef) {
        const secret = secrets.get(`${namespace}/${consumer.apiKeySecretRef.name}`);
        const value = secret ? readSecretKey(secret, consumer.apiKeySecretRef.key) : undefined;
        if (value === undefined) {
          diagnostics.push({
            severity: "warning",
            resource: id,
            source,
            field: `spec.consumers[${index}].apiKeySecretRef`,
            reason: secret ? "KeyNotFound" : "SecretNotFound",
            message: `consumer "${consumer.name}": Secret "${consumer.apiKeySecretRef.name}" ${secret ? `has no key "${consumer.apiKeySecretRef.key}"` : "not found"}; it cannot authenticate`,
          });
        } else {
          apiKeySha256 = apiKeyDigest(value.trim());
        }
      }
      const team = consumer.team && teams.get(`${namespace}/${consumer.team.name}`);
      consumers.push({
        name: consumer.name,
        apiKeySha256,
        serviceAccount: consumer.serviceAccount
          ? { name: consumer.serviceAccount.name, namespace: consumer.serviceAccount.namespace ?? namespace }
          : undefined,
        limits: { ...consumer.limits },
        budget: consumer.budget,
        team,
      });
      const targetModels = targets.map((t) => ({
        id: `${t.providerId}/${t.model}`,
        model: compiledProviders.get(t.providerId)!.models.find((m) => m.name === t.model)!,
      }));
      // Tokens per minute hold every target's worst case, a budget every priced target's.
      for (const [field, what, counts] of [
        ["limits.tokensPerMinute", "a tokens-per-minute limit", () => true],
        ["budget", "a budget", (m: CompiledModel) => m.pricing !== undefined],
      ] as const) {
        const limited =
          field === "budget"
            ? (consumer.budget ?? team?.budget)
            : (consumer.limits?.tokensPerMinute ?? team?.limits.tokensPerMinute);
        const unbounded = targetModels.filter(({ model }) => counts(model) && !hasOutputBound(model));
        if (limited === undefined || unbounded.length === 0) continue;
        diagnostics.push({
          severity: "error",
          resource: id,
          source,
          field: `spec.consumers[${index}].${field}`,
          reason: "UnboundedOutput",
          message:
            `consumer "${consumer.name}" has ${what}, but ${unbounded.map((t) => t.id).join(", ")} ` +
            "sets neither maxOutputTokens nor contextWindow in spec.models, so the most a request may use " +
            "is unknown before it is sent; set one of them",
        });
      }
      const unpriced = targets.filter(
        (t) => !compiledProviders.get(t.providerId)!.models.find((m) => m.name === t.model)!.pricing,
      );
      if ((consumer.budget ?? team?.budget) && unpriced.length > 0) {
        diagnostics.push({
          severity: "warning",
          resource: id,
          source,
          field: `spec.consumers[${index}].budget`,
          reason: "BudgetWithoutPricing",
          message: `consumer "${consumer.name}" has a budget, but ${unpriced.map((t) => `${t.providerId}/${t.model}`).join(", ")} has no spec.models[].pricing, so calls there cost nothing against it`,
        });
      }
    });
    compiledRoutes.push({
      id: `${namespace}/${resource.metadata.name}`,
      name: resource.metadata.name,
      namespace,
      generation: resource.metadata.generation,
      model: spec.model,
      aliases: spec.aliases ?? [],
      kind,
      strategy: spec.strategy ?? "priority",
      targets,
      fallback: {
        on:
          kind === "embedding"
            ? []
            : [...(spec.fallback?.onErrors ?? spec.fallback?.on ?? DEFAULTS.fallbackOn)],
        maxAttempts: spec.fallback?.maxAttempts ?? targets.length,
      },
      retries: {
        attempts: retries.attempts,
        backoffMs: durationToMs(retries.backoff),
        maxBackoffMs: durationToMs(retries.maxBackoff),
        respectRetryAfter: retries.respectRetryAfter,
      },
      policy: { dataResidency: spec.policy?.dataResidency },
      cache: spec.cache ? { ttlMs: durationToMs(spec.cache.ttl) } : undefined,
      consumers,
    });
  }

  const result: CompileResult = {
    diagnostics,
    providers: providers.map((p) => p.resource),
    routes: routes.map((r) => r.resource),
  };
  if (diagnostics.some((d) => d.severity === "error")) return result;
  const body = {
    providers: [...compiledProviders.values()].sort((a, b) => a.id.localeCompare(b.id)),
    routes: compiledRoutes.sort((a, b) => a.id.localeCompare(b.id)),
  };
  result.config = { version: options.unversioned ? "" : hashConfig(body), ...body };
  return result;
}

/** One line per diagnostic, naming the file, resource and field. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.severity}: ${d.source ? `${d.source}: ` : ""}${d.resource}: ${d.message}`;
}
