import type { CompiledRoute } from "../../shared/schemas/gateway-config.js";
import { HEALTH_STATES, type GatewayState } from "../../shared/schemas/gateway-state.js";
import type { GatewayRuntime } from "../config/gateway-runtime.js";
import type { GatewayMetrics } from "../metrics.js";
import type { CallContext } from "../providers/provider-adapter.js";
import type { CircuitState } from "../resilience/circuit-breaker.js";
import { buildGatewayState } from "../resilience/gateway-state-report.js";
import { HealthProber } from "../resilience/health-prober.js";
import { TargetStates, type Clock } from "../resilience/target-states.js";
import type { Candidate } from "./candidate.js";
import { dispatch, type AttemptRecord, type DispatchResult } from "./dispatcher.js";
import type { RequestNeeds } from "./request-needs.js";
import { RoutePlanner } from "./route-planner.js";

export interface RouterOptions {
  metrics?: GatewayMetrics;
  clock?: Clock;
  random?: () => number;
}

const CIRCUIT_GAUGE: Record<CircuitState, number> = { closed: 0, "half-open": 1, open: 2 };

/**
 * The gateway's routing and resilience, one per gateway process: live target state (circuits,
 * health, latency) that outlives config snapshots, active probes, the route planner and the
 * dispatcher. The gateway calls `applySnapshot` for every snapshot it swaps in.
 */
export class Router {
  readonly states: TargetStates;
  readonly planner: RoutePlanner;
  private readonly prober: HealthProber;
  private readonly metrics: GatewayMetrics | undefined;

  constructor(options: RouterOptions = {}) {
    this.metrics = options.metrics;
    this.states = new TargetStates({
      clock: options.clock,
      onCircuitTransition: (state, to) =>
        this.metrics?.circuitTransitions.inc({ provider: state.providerId, model: state.model, state: to }),
    });
    this.planner = new RoutePlanner({
      latencyMs: (key) => this.states.find(key)?.health.ewmaMs,
      random: options.random,
    });
    this.prober = new HealthProber(this.states, options.random);
    if (this.metrics) this.metrics.refreshTargetGauges = () => this.refreshGauges();
  }

  applySnapshot(runtime: GatewayRuntime): void {
    this.states.sync(runtime.config);
    this.prober.sync(runtime);
  }

  /** Probes a provider now (tests and troubleshooting); probes otherwise run on their schedule. */
  probe(providerId: string): Promise<void> {
    return this.prober.probe(providerId);
  }

  dispatch<T>(
    runtime: GatewayRuntime,
    route: CompiledRoute,
    needs: RequestNeeds,
    clientSignal: AbortSignal,
    call: (candidate: Candidate, ctx: CallContext) => Promise<T>,
    attempts?: AttemptRecord[],
  ): Promise<DispatchResult<T>> {
    return dispatch(
      { planner: this.planner, states: this.states, metrics: this.metrics },
      runtime,
      route,
      needs,
      clientSignal,
      call,
      attempts,
    );
  }

  gatewayState(runtime: GatewayRuntime | undefined): GatewayState {
    return buildGatewayState(runtime?.config, this.states);
  }

  close(): void {
    this.prober.stop();
  }

  private refreshGauges(): void {
    const metrics = this.metrics!;
    const now = this.states.clock();
    metrics.circuitState.reset();
    metrics.targetHealth.reset();
    for (const state of this.states.all()) {
      const labels = { provider: state.providerId, model: state.model };
      metrics.circuitState.set(labels, CIRCUIT_GAUGE[state.breaker.state(now)]);
      const health = this.states.healthOf(state, now);
      for (const candidate of HEALTH_STATES)
        metrics.targetHealth.set({ ...labels, state: candidate }, candidate === health ? 1 : 0);
    }
  }
}
