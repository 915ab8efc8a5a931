import { credentialValues } from "../../shared/credential-values.js";
import type { Logger } from "../../shared/logging.js";
import { registerSecrets } from "../../shared/redact.js";
import { blockingInputs, setPublished, statusInputs, type CompileOutcome } from "../compile-outcome.js";
import { compileByNamespace } from "../compile-by-namespace.js";
import { referencedSecretNames } from "../compile-watched.js";
import type { EventRecorder } from "../event-recorder.js";
import type { KindCache, WatchedObject } from "../informers/watched-resources.js";
import type { OperatorMetrics } from "../operator-metrics.js";
import type { SnapshotPublisher, SnapshotRef } from "../snapshot/snapshot-publisher.js";

/**
 * Compiles every watched LLMProvider and LLMRoute, with the Secrets they reference and what
 * EmbeddingMigrations do to routes, into one GatewayConfig and publishes it. An invalid resource refuses its namespace's compile: that
 * namespace keeps its part of the last good snapshot, the others go live, and the diagnostics
 * become conditions on the offending resources.
 */
export class SnapshotController {
  constructor(
    private readonly caches: {
      providers: KindCache;
      routes: KindCache;
      migrations: KindCache;
      secrets: KindCache;
    },
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
      (object) =>
        object.metadata?.namespace === namespace && referencedSecretNames(object.spec).includes(name),
    );
  }

  /**
   * Compiles and publishes; returns the keys of the resources whose status inputs changed
   * ("all" when the refusal that every unpublished resource quotes changed).
   */
  async reconcile(): Promise<Set<string> | "all"> {
    const keysBefore = [...this.outcome.compiledGenerations.keys()];
    const inputsBefore = new Map(keysBefore.map((key) => [key, statusInputs(this.outcome, key)]));
    const blockingBefore = blockingInputs(this.outcome);
    const {
      config,
      compiledGenerations,
      diagnostics,
      refused: blockingErrors,
    } = compileByNamespace(
      this.caches.providers.list(),
      this.caches.routes.list(),
      (namespace, name) => this.caches.secrets.get(namespace, name),
      this.outcome.published,
      this.caches.migrations.list(),
    );
    // Before anything is logged or written to status: every message is redacted with these values.
    registerSecrets(this, credentialValues(config));
    this.metrics.refusedNamespaces.set(blockingErrors.size);
    if (blockingErrors.size > 0) {
      this.logger.warn(
        {
          errors: [...blockingErrors.values()].flat().map((d) => `${d.resource}: ${d.message}`),
          namespaces: [...blockingErrors.keys()],
        },
        "compile refused for some namespaces; they keep their last good config",
      );
    }
    // Publish first: a failure leaves the outcome as it was and the key is retried.
    const publish = await this.publisher.publish(config);
    this.metrics.snapshotPublishes.inc({ result: publish.written ? "written" : "unchanged" });
    this.metrics.snapshotBytes.set(publish.bytes);
    if (publish.written) {
      this.logger.info(
        {
          version: publish.version,
          providers: config.providers.length,
          routes: config.routes.length,
          bytes: publish.bytes,
          parts: publish.parts,
        },
        "published gateway config snapshot",
      );
      void this.events.record(
        {
          apiVersion: "v1",
          kind: "Secret",
          namespace: this.snapshotRef.namespace,
          name: this.snapshotRef.name,
        },
        "Normal",
        "SnapshotPublished",
        `published gateway config ${publish.version}: ${config.providers.length} providers, ${config.routes.length} routes, ${publish.bytes} bytes compressed${publish.parts > 0 ? ` in ${publish.parts} parts` : ""}`,
      );
    }
    setPublished(this.outcome, config);
    this.outcome.compiledGenerations = compiledGenerations;
    this.outcome.diagnostics = diagnostics;
    this.outcome.blockingErrors = blockingErrors;
    if (blockingInputs(this.outcome) !== blockingBefore) return "all";
    const changed = new Set<string>();
    for (const key of compiledGenerations.keys()) {
      if (inputsBefore.get(key) !== statusInputs(this.outcome, key)) changed.add(key);
    }
    return changed;
  }
}
