import type { Condition } from "../../shared/schemas/common.js";
import type { LLMRoute } from "../../shared/schemas/llm-route.js";
import type { CompileOutcome } from "../compile-outcome.js";
import type { EventRecorder } from "../event-recorder.js";
import type { MergedGatewayState } from "../gateway-state/merge-gateway-states.js";
import type { KindCache } from "../informers/watched-resources.js";
import { desiredRouteStatus } from "../status/route-status.js";
import type { StatusWriter } from "../status/status-writer.js";
import { recordTransitions } from "../status/transition-events.js";

/** Writes each LLMRoute's status: its conditions and per-target health. */
export class LLMRouteController {
  constructor(
    private readonly cache: KindCache,
    private readonly outcome: CompileOutcome,
    private readonly gatewayState: () => MergedGatewayState | undefined,
    private readonly writer: StatusWriter,
    private readonly events: EventRecorder,
  ) {}

  async reconcile(namespace: string, name: string): Promise<void> {
    const object = this.cache.get(namespace, name);
    if (!object || object.metadata?.deletionTimestamp) return;
    const route = object as unknown as LLMRoute;
    const desired = desiredRouteStatus(route, this.outcome, this.gatewayState());
    if (!desired) return;
    const written = await this.writer.write(
      { plural: "llmroutes", namespace, name, currentStatus: route.status },
      desired,
    );
    if (!written) return;
    recordTransitions(
      this.events,
      { apiVersion: object.apiVersion!, kind: "LLMRoute", namespace, name, uid: object.metadata?.uid },
      route.status?.conditions as Condition[] | undefined,
      desired.conditions,
    );
  }
}
