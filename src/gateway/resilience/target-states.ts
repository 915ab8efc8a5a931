import type { ErrorClass } from "../../shared/errors.js";
import type { CompiledModel, CompiledProvider, GatewayConfig } from "../../shared/schemas/gateway-config.js";
import { CircuitBreaker, type CircuitState, type Permit } from "./circuit-breaker.js";
import { outcomeKind, type OutcomeKind } from "./outcome-kind.js";
import { TargetHealth, type HealthState } from "./target-health.js";

export type Clock = () => number;

/** `providerId/modelName`: the unit of circuit breaking and health, as in GatewayRuntime.models. */
export function targetKey(providerId: string, modelName: string): string {
  return `${providerId}/${modelName}`;
}

export interface TargetState {
  readonly key: string;
  readonly providerId: string;
  readonly model: string;
  readonly breaker: CircuitBreaker;
  readonly health: TargetHealth;
  failureThreshold: number;
  /** The circuit breaker's window: how long a failure counts towards `degraded`. */
  windowMs: number;
  /** What the state describes: a change of upstream starts from scratch. */
  readonly fingerprint: string;
}

export interface TargetStatesOptions {
  clock?: Clock;
  onCircuitTransition?: (state: TargetState, to: CircuitState, at: number) => void;
}

/** Which upstream a provider model reaches; health learnt about one says nothing about another. */
function fingerprintOf(provider: CompiledProvider, model: CompiledModel): string {
  return JSON.stringify([
    provider.type,
    provider.endpoint,
    provider.region,
    provider.project,
    provider.apiVersion,
    model.upstreamModel,
  ]);
}

/**
 * Circuit and health state of every (provider, model), kept across config snapshots: a new
 * snapshot keeps the state of targets whose upstream is unchanged (new breaker settings apply from
 * then on), starts changed ones afresh and drops removed ones.
 */
export class TargetStates {
  readonly clock: Clock;
  private readonly states = new Map<string, TargetState>();
  private readonly onCircuitTransition: NonNullable<TargetStatesOptions["onCircuitTransition"]>;

  constructor(options: TargetStatesOptions = {}) {
    this.clock = options.clock ?? (() => Date.now());
    this.onCircuitTransition = options.onCircuitTransition ?? (() => {});
  }

  sync(config: GatewayConfig): void {
    const live = new Set<string>();
    for (const provider of config.providers) {
      for (const model of provider.models) {
        const key = targetKey(provider.id, model.name);
        live.add(key);
        const existing = this.states.get(key);
        if (existing && existing.fingerprint === fingerprintOf(provider, model)) {
          existing.breaker.updateSettings(provider.circuitBreaker);
          existing.failureThreshold = provider.circuitBreaker.failureThreshold;
          existing.windowMs = provider.circuitBreaker.windowSeconds * 1000;
        } else {
          this.states.set(key, this.create(provider, model));
        }
      }
    }
    for (const key of this.states.keys()) if (!live.has(key)) this.states.delete(key);
  }

  /** The state of a target, created on first use (the next sync drops it if no snapshot has it). */
  get(provider: CompiledProvider, model: CompiledModel): TargetState {
    const key = targetKey(provider.id, model.name);
    let state = this.states.get(key);
    if (!state) {
      state = this.create(provider, model);
      this.states.set(key, state);
    }
    return state;
  }

  find(key: string): TargetState | undefined {
    return this.states.get(key);
  }

  all(): IterableIterator<TargetState> {
    return this.states.values();
  }

  recordSuccess(state: TargetState, permit: Permit, latencyMs: number): void {
    const now = this.clock();
    state.breaker.recordSuccess(permit, now);
    state.health.recordSuccess(latencyMs, now);
  }

  /** Feeds a probe's result (undefined: it passed) into health and, for outages, the breaker. */
  recordProbe(state: TargetState, error: ErrorClass | undefined): void {
    const now = this.clock();
    state.health.recordProbe(error, now);
    if (error === undefined) state.breaker.recordProbe("success", now);
    else if (outcomeKind(error) === "outage") state.breaker.recordProbe("outage", now);
  }

  /** Feeds a failed attempt into the breaker and health by what it says about the upstream (outcome-kind.ts). */
  recordError(
    state: TargetState,
    permit: Permit,
    kind: OutcomeKind,
    errorClass: ErrorClass,
    retryAfterSeconds?: number,
  ): void {
    const now = this.clock();
    switch (kind) {
      case "outage":
        state.breaker.recordFailure(permit, now);
        state.health.recordFailure(errorClass, now);
        return;
      case "misconfigured":
        state.breaker.release(permit, now);
        state.health.recordFailure(errorClass, now);
        return;
      case "throttled":
        state.breaker.recordThrottle(permit, now, retryAfterSeconds);
        state.health.recordThrottle(now);
        return;
      case "neutral":
        state.breaker.release(permit, now);
        state.health.recordNeutral();
    }
  }

  healthOf(state: TargetState, now = this.clock()): HealthState {
    return state.health.health(
      state.breaker.state(now),
      now < state.breaker.throttledUntilMs(),
      state.failureThreshold,
      now,
      state.windowMs,
    );
  }

  private create(provider: CompiledProvider, model: CompiledModel): TargetState {
    const now = this.clock();
    const state: TargetState = {
      key: targetKey(provider.id, model.name),
      providerId: provider.id,
      model: model.name,
      breaker: new CircuitBreaker(provider.circuitBreaker, now, (to, at) =>
        this.onCircuitTransition(state, to, at),
      ),
      health: new TargetHealth(),
      failureThreshold: provider.circuitBreaker.failureThreshold,
      windowMs: provider.circuitBreaker.windowSeconds * 1000,
      fingerprint: fingerprintOf(provider, model),
    };
    return state;
  }
}
