import {
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Api,
  type V1OwnerReference,
  type V1Secret,
} from "@kubernetes/client-node";
import type { GatewayConfig } from "../../shared/schemas/gateway-config.js";
import type { Logger } from "../../shared/logging.js";
import { describeKubeError, isApiError } from "../kube-errors.js";
import {
  CHUNK_KEY,
  DEFAULT_PART_BYTES,
  encodeSnapshot,
  INLINE_KEY,
  LABEL_MANAGED_BY,
  LABEL_ROLE,
  LABEL_SNAPSHOT,
  LABEL_VERSION,
  MANAGED_BY,
  MANIFEST_KEY,
  readSnapshot,
  SNAPSHOT_SECRET_TYPE,
  type EncodedSnapshot,
} from "../../shared/snapshot-format.js";

export interface SnapshotRef {
  namespace: string;
  name: string;
}

export interface PublishResult {
  written: boolean;
  version: string;
  parts: number;
  bytes: number;
}

const CONFLICT_RETRIES = 5;

/**
 * Writes GatewayConfig snapshots to the head Secret (and part Secrets when the compressed config
 * outgrows one Secret). Parts are content-addressed and written before the head points at them,
 * so a gateway never sees half a snapshot; parts of older versions are deleted afterwards, except
 * those of the version just replaced, which a gateway may still be reading.
 */
export class SnapshotPublisher {
  private publishedVersion: string | undefined;

  constructor(
    private readonly core: CoreV1Api,
    private readonly ref: SnapshotRef,
    private readonly logger: Logger,
    private readonly partBytes = DEFAULT_PART_BYTES,
  ) {}

  get version(): string | undefined {
    return this.publishedVersion;
  }

  /** Reads what is published now (after a restart or a leadership change); undefined if nothing valid is. */
  async readPublished(): Promise<GatewayConfig | undefined> {
    const head = await this.readHead();
    if (!head) return undefined;
    try {
      const config = await readSnapshot(head, this.ref.namespace, this.core);
      this.publishedVersion = config.version;
      return config;
    } catch (err) {
      this.logger.warn(
        { snapshot: this.ref, error: describeKubeError(err) },
        "the published snapshot is unreadable; it will be replaced",
      );
      return undefined;
    }
  }

  async publish(config: GatewayConfig): Promise<PublishResult> {
    const encoded = encodeSnapshot(config, this.ref.name, this.partBytes);
    const result = { version: config.version, parts: encoded.parts.length, bytes: encoded.manifest.size };
    if (this.publishedVersion === config.version) return { written: false, ...result };
    for (const part of encoded.parts) await this.writePart(part.name, part.chunk, config.version);
    const head = await this.writeHead(encoded);
    const previous = this.publishedVersion;
    this.publishedVersion = config.version;
    await this.cleanParts(head, config.version, previous);
    return { written: true, ...result };
  }

  private async readHead(): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ namespace: this.ref.namespace, name: this.ref.name });
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }

  private labels(role: "head" | "part", version: string): Record<string, string> {
    return {
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_SNAPSHOT]: this.ref.name,
      [LABEL_ROLE]: role,
      [LABEL_VERSION]: version,
    };
  }

  private async writePart(name: string, chunk: Buffer, version: string): Promise<void> {
    const body: V1Secret = {
      metadata: { name, namespace: this.ref.namespace, labels: this.labels("part", version) },
      type: SNAPSHOT_SECRET_TYPE,
      immutable: true,
      data: { [CHUNK_KEY]: chunk.toString("base64") },
    };
    try {
      await this.core.createNamespacedSecret({ namespace: this.ref.namespace, body });
    } catch (err) {
      // Parts are named by content hash: an existing part already holds these bytes.
      if (!isApiError(err, 409)) throw err;
    }
  }

  /** Creates or replaces the head; a 409 (someone else wrote it) re-reads and retries. */
  private async writeHead(encoded: EncodedSnapshot): Promise<V1Secret> {
    const data: Record<string, string> = {
      [MANIFEST_KEY]: Buffer.from(JSON.stringify(encoded.manifest)).toString("base64"),
    };
    if (encoded.inline) data[INLINE_KEY] = encoded.inline.toString("base64");
    const version = encoded.manifest.version;
    for (let attempt = 0; ; attempt++) {
      const current = await this.readHead();
      const metadata = {
        name: this.ref.name,
        namespace: this.ref.namespace,
        labels: { ...current?.metadata?.labels, ...this.labels("head", version) },
        annotations: { ...current?.metadata?.annotations, [LABEL_VERSION]: version },
      };
      try {
        if (!current) {
          return await this.core.createNamespacedSecret({
            namespace: this.ref.namespace,
            body: { metadata, type: SNAPSHOT_SECRET_TYPE, data },
          });
        }
        return await this.core.replaceNamespacedSecret({
          namespace: this.ref.namespace,
          name: this.ref.name,
          body: {
            metadata: { ...metadata, resourceVersion: current.metadata?.resourceVersion },
            type: current.type,
            data,
          },
        });
      } catch (err) {
        if (!isApiError(err, 409) || attempt >= CONFLICT_RETRIES) throw err;
        this.logger.info(
          { snapshot: this.ref, attempt: attempt + 1 },
          "the snapshot Secret changed under us (409); re-reading and retrying",
        );
      }
    }
  }

  /** Gives parts an owner reference to the head and deletes parts of versions no longer needed. */
  private async cleanParts(head: V1Secret, version: string, previous: string | undefined): Promise<void> {
    const list = await this.core.listNamespacedSecret({
      namespace: this.ref.namespace,
      labelSelector: `${LABEL_SNAPSHOT}=${this.ref.name},${LABEL_ROLE}=part`,
    });
    const owner: V1OwnerReference = {
      apiVersion: "v1",
      kind: "Secret",
      name: this.ref.name,
      uid: head.metadata!.uid!,
    };
    for (const part of list.items) {
      const name = part.metadata!.name!;
      const partVersion = part.metadata?.labels?.[LABEL_VERSION];
      try {
        if (partVersion !== version && partVersion !== previous) {
          await this.core.deleteNamespacedSecret({ namespace: this.ref.namespace, name });
        } else if (!part.metadata?.ownerReferences?.some((o) => o.uid === owner.uid)) {
          await this.core.patchNamespacedSecret(
            { namespace: this.ref.namespace, name, body: { metadata: { ownerReferences: [owner] } } },
            setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
          );
        }
      } catch (err) {
        if (!isApiError(err, 404)) {
          this.logger.warn(
            { snapshot: this.ref, part: name, error: describeKubeError(err) },
            "could not clean up a snapshot part",
          );
        }
      }
    }
  }
}
