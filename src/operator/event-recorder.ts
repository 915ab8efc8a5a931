import { randomBytes } from "node:crypto";
import type { CoreV1Api } from "@kubernetes/client-node";
import type { Logger } from "../shared/logging.js";
import { redactedExcerpt } from "../shared/redact.js";
import { describeKubeError } from "./kube-errors.js";

export interface ObjectReference {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

const DEDUP_WINDOW_MS = 60_000;
const MAX_MESSAGE = 1024;

/**
 * Records core/v1 Events on important transitions (kubectl describe shows them). Messages come
 * from conditions and name resources, and are redacted (before they are cut) all the same. Identical events for one object
 * within a minute are dropped, so a flapping condition cannot flood the API server.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly core: Pick<CoreV1Api, "createNamespacedEvent">,
    private readonly component: string,
    private readonly instance: string,
    private readonly logger: Logger,
  ) {}

  async record(
    ref: ObjectReference,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void> {
    const key = `${ref.namespace}/${ref.kind}/${ref.name}/${ref.uid ?? ""}/${type}/${reason}/${message}`;
    const now = Date.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < DEDUP_WINDOW_MS) return;
    this.recent.set(key, now);
    if (this.recent.size > 10_000) {
      for (const [k, at] of this.recent) if (now - at >= DEDUP_WINDOW_MS) this.recent.delete(k);
    }
    const timestamp = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace: ref.namespace,
        body: {
          metadata: {
            name: `${ref.name}.${now.toString(16)}${randomBytes(3).toString("hex")}`,
            namespace: ref.namespace,
          },
          involvedObject: {
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            namespace: ref.namespace,
            name: ref.name,
            uid: ref.uid,
          },
          type,
          reason,
          message: redactedExcerpt(message, MAX_MESSAGE - 1),
          source: { component: this.component },
          reportingComponent: this.component,
          reportingInstance: this.instance,
          firstTimestamp: timestamp,
          lastTimestamp: timestamp,
          count: 1,
        },
      });
    } catch (err) {
      this.logger.warn(
        { object: `${ref.kind}/${ref.namespace}/${ref.name}`, reason, error: describeKubeError(err) },
        "could not record an event",
      );
    }
  }
}
