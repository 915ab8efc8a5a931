import type { Condition } from "../../shared/schemas/common.js";
import type { CompileOutcome } from "../compile-outcome.js";
import type { EventRecorder } from "../event-recorder.js";
import type { MergedGatewayState } from "../gateway-state/merge-gateway-states.js";
import type { KindCache } from "../informers/watched-resources.js";
import type { StatusWriter } from "../status/status-writer.js";
import { recordTransitions } from "../status/transition-events.js";

interface StatusResource {
  metadata: { name: string; namespace?: string };
  status?: { conditions?: unknown[] };
}

/** What differs between the kinds whose status the operator writes. */
export interface StatusKind<R extends StatusResource, S extends { conditions?: Condition[] }> {
  kind: "LLMProvider" | "LLMRoute";
  plural: "llmproviders" | "llmroutes";
  desired(resource: R, outcome: CompileOutcome, state: MergedGatewayState | undefined): S | undefined;
}

/**
 * Writes one kind's status from the last compile and the gateways' merged state, patching only
 * when it changed and recording Events on condition transitions.
 */
export class StatusController<R extends StatusResource, S extends { conditions?: Condition[] }> {
  constructor(
    private readonly spec: StatusKind<R, S>,
    private readonly cache: KindCache,
    private readonly outcome: CompileOutcome,
    private readonly gatewayState: () => MergedGatewayState | undefined,
    private readonly writer: StatusWriter,
    private readonly events: EventRecorder,
  ) {}

  async reconcile(namespace: string, name: string): Promise<void> {
    const object = this.cache.get(namespace, name);
    if (!object || object.metadata?.deletionTimestamp) return;
    const resource = object as unknown as R;
    const desired = this.spec.desired(resource, this.outcome, this.gatewayState());
    if (!desired) return;
    const written = await this.writer.write(
      { plural: this.spec.plural, namespace, name, currentStatus: resource.status },
      desired,
    );
    if (!written) return;
    recordTransitions(
      this.events,
      { apiVersion: object.apiVersion!, kind: this.spec.kind, namespace, name, uid: object.metadata?.uid },
      resource.status?.conditions as Condition[] | undefined,
      desired.conditions,
    );
  }
}
