import type { Condition } from "../../shared/schemas/common.js";
import type { LLMProvider } from "../../shared/schemas/llm-provider.js";
import type { CompileOutcome } from "../compile-outcome.js";
import type { EventRecorder } from "../event-recorder.js";
import type { MergedGatewayState } from "../gateway-state/merge-gateway-states.js";
import type { KindCache } from "../informers/watched-resources.js";
import { desiredProviderStatus } from "../status/provider-status.js";
import type { StatusWriter } from "../status/status-writer.js";
import { recordTransitions } from "../status/transition-events.js";

/** Writes each LLMProvider's status from the last compile and the gateways' merged state. */
export class LLMProviderController {
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
    const provider = object as unknown as LLMProvider;
    const desired = desiredProviderStatus(provider, this.outcome, this.gatewayState());
    if (!desired) return;
    const written = await this.writer.write(
      { plural: "llmproviders", namespace, name, currentStatus: provider.status },
      desired,
    );
    if (!written) return;
    recordTransitions(
      this.events,
      { apiVersion: object.apiVersion!, kind: "LLMProvider", namespace, name, uid: object.metadata?.uid },
      provider.status?.conditions as Condition[] | undefined,
      desired.conditions,
    );
  }
}
