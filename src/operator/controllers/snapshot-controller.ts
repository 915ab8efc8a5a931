import { compile, type Diagnostic, type SourcedObject } from "../../shared/compile.js";
import { GROUP_VERSION } from "../../shared/schemas/common.js";
import type { Logger } from "../../shared/logging.js";
import { resourceKey, type CompileOutcome } from "../compile-outcome.js";
import type { EventRecorder } from "../event-recorder.js";
import type { KindCache, WatchedObject } from "../informers/watched-resources.js";
import type { OperatorMetrics } from "../operator-metrics.js";
import type { SnapshotPublisher, SnapshotRef } from "../snapshot/snapshot-publisher.js";

interface CredentialRefs {
  credentials?: { secretRef?: { name?: string } };
  consumers?: Array<{ apiKeySecretRef?: { name?: string } }>;
}

/** Names of the Secrets a provider or route spec refers to (credentials and consumer keys). */
export function referencedSecretNames(spec: unknown): string[] {
  const s = (spec ?? {}) as CredentialRefs;
  const names: string[] = [];
  if (s.credentials?.secretRef?.name) names.push(s.credentials.secretRef.name);
  for (const consumer of s.consumers ?? []) if (consumer.apiKeySecretRef?.name) names.push(consumer.apiKeySecretRef.name);
  return names;
}

function asCompileInput(kind: "LLMProvider" | "LLMRoute", object: WatchedObject): SourcedObject {
  const { name, namespace, generation, uid } = object.metadata ?? {};
  return {
    object: { apiVersion: GROUP_VERSION, kind, metadata: { name, namespace, generation, uid }, spec: object.spec },
    source: "cluster",
  };
}

/**
 * Compiles every watched LLMProvider and LLMRoute, with the Secrets they reference, into one
 * GatewayConfig and publishes it. An invalid resource refuses the whole compile: the last good
 * snapshot keeps serving and the diagnostics become conditions on the offending resources.
 */
export class SnapshotController {
  constructor(
    private readonly caches: { providers: KindCache; routes: KindCache; secrets: KindCache },
    private readonly publisher: SnapshotPublisher,
    private readonly snapshotRef: SnapshotRef,
    private readonly outcome: CompileOutcome,
    private readonly events: EventRecorder,
    private readonly metrics: OperatorMetrics,
    private readonly logger: Logger,
  ) {}

  /** True when a Secret change can change the compiled config. */
  isReferenced(secret: WatchedObject): boolean {
    const namespace = secret.metadata?.namespace;
    const name = secret.metadata?.name;
    if (!namespace || !name) return false;
    return [...this.caches.providers.list(), ...this.caches.routes.list()].some(
      (object) => object.metadata?.namespace === namespace && referencedSecretNames(object.spec).includes(name),
    );
  }

  async reconcile(): Promise<void> {
    const providers = this.caches.providers.list();
    const routes = this.caches.routes.list();
    const inputs: SourcedObject[] = [
      ...providers.map((p) => asCompileInput("LLMProvider", p)),
      ...routes.map((r) => asCompileInput("LLMRoute", r)),
    ];
    const wanted = new Set<string>();
    for (const object of [...providers, ...routes]) {
      for (const name of referencedSecretNames(object.spec)) wanted.add(`${object.metadata?.namespace}/${name}`);
    }
    for (const key of wanted) {
      const [namespace, name] = key.split("/") as [string, string];
      const secret = this.caches.secrets.get(namespace, name);
      if (secret) {
        inputs.push({ object: { apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, data: secret.data ?? {} }, source: "cluster" });
      }
    }

    const result = compile(inputs);
    const generations = new Map<string, number | undefined>();
    for (const p of providers) generations.set(resourceKey("LLMProvider", p.metadata!.namespace!, p.metadata!.name!), p.metadata?.generation);
    for (const r of routes) generations.set(resourceKey("LLMRoute", r.metadata!.namespace!, r.metadata!.name!), r.metadata?.generation);
    const diagnostics = new Map<string, Diagnostic[]>();
    for (const d of result.diagnostics) {
      const list = diagnostics.get(d.resource) ?? [];
      list.push(d);
      diagnostics.set(d.resource, list);
    }
    const blockingErrors = result.diagnostics.filter((d) => d.severity === "error");

    if (result.config) {
      // Publish first: a failure leaves the outcome as it was and the key is retried.
      const publish = await this.publisher.publish(result.config);
      this.metrics.snapshotPublishes.inc({ result: publish.written ? "written" : "unchanged" });
      this.metrics.snapshotBytes.set(publish.bytes);
      if (publish.written) {
        this.logger.info(
          { version: publish.version, providers: result.config.providers.length, routes: result.config.routes.length, bytes: publish.bytes, parts: publish.parts },
          "published gateway config snapshot",
        );
        void this.events.record(
          { apiVersion: "v1", kind: "Secret", namespace: this.snapshotRef.namespace, name: this.snapshotRef.name },
          "Normal",
          "SnapshotPublished",
          `published gateway config ${publish.version}: ${result.config.providers.length} providers, ${result.config.routes.length} routes, ${publish.bytes} bytes compressed${publish.parts > 0 ? ` in ${publish.parts} parts` : ""}`,
        );
      }
      this.outcome.published = result.config;
    } else {
      this.metrics.snapshotPublishes.inc({ result: "refused" });
      this.logger.warn(
        { errors: blockingErrors.map((d) => `${d.resource}: ${d.message}`), servingVersion: this.outcome.published?.version ?? null },
        "compile refused; the last good snapshot keeps serving",
      );
    }
    this.outcome.compiledGenerations = generations;
    this.outcome.diagnostics = diagnostics;
    this.outcome.blockingErrors = blockingErrors;
  }
}
