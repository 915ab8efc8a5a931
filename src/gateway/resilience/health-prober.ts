import { GatewayError, isGatewayError, type ErrorClass } from "../../shared/errors.js";
import type { CompiledModel, CompiledProvider } from "../../shared/schemas/gateway-config.js";
import type { GatewayRuntime } from "../config/gateway-runtime.js";
import type { CallContext, ProviderAdapter } from "../providers/provider-adapter.js";
import { outcomeKind } from "./outcome-kind.js";
import type { TargetStates } from "./target-states.js";

/** Longest wait before a provider's first probe; spread so a reload does not probe all at once. */
const FIRST_PROBE_SPREAD_MS = 1000;

interface Schedule {
  fingerprint: string;
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
}

function scheduleFingerprint(provider: CompiledProvider): string {
  return JSON.stringify([
    provider.healthCheck,
    provider.type,
    provider.endpoint,
    provider.region,
    provider.project,
    provider.apiVersion,
    provider.models.map((m) => [m.name, m.kind, m.upstreamModel]),
  ]);
}

function probeContext(provider: CompiledProvider): { ctx: CallContext; done(): void } {
  const { timeoutMs } = provider.healthCheck;
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new GatewayError("timeout", `health probe of ${provider.id} exceeded ${timeoutMs} ms`),
      ),
    timeoutMs,
  );
  const cap = (ms: number) => Math.min(ms, timeoutMs);
  return {
    ctx: {
      signal: controller.signal,
      timeouts: {
        connectMs: cap(provider.timeouts.connectMs),
        firstTokenMs: cap(provider.timeouts.firstTokenMs),
        idleMs: cap(provider.timeouts.idleMs),
        totalMs: timeoutMs,
      },
      probe: true,
    },
    done: () => clearTimeout(timer),
  };
}

/** A probe fails only on what would also count against a request: outages and refusals of the gateway. */
function failureClass(err: unknown): ErrorClass | undefined {
  const errorClass = isGatewayError(err) ? err.errorClass : "upstream_unavailable";
  const kind = outcomeKind(errorClass);
  return kind === "outage" || kind === "misconfigured" ? errorClass : undefined;
}

async function probeModel(adapter: ProviderAdapter, model: CompiledModel, ctx: CallContext): Promise<void> {
  if (model.kind === "embedding") {
    await adapter.embed({ model: model.upstreamModel, input: ["ping"] }, ctx);
    return;
  }
  await adapter.chat(
    {
      model: model.upstreamModel,
      messages: [{ role: "user", content: [{ type: "text", text: "ping" }] }],
      maxTokens: 1,
    },
    ctx,
  );
}

/**
 * Active health checks per provider, as its spec.healthCheck says: `models` calls the adapter's
 * cheap probe once per provider (its result applies to every model), `completion` sends each model
 * a one-token request (a one-word embedding for embedding models), `none` sends nothing.
 * Schedules survive snapshots that leave a provider's upstream and health check unchanged.
 */
export class HealthProber {
  private readonly schedules = new Map<string, Schedule>();
  private runtime: GatewayRuntime | undefined;

  constructor(
    private readonly states: TargetStates,
    private readonly random: () => number = Math.random,
  ) {}

  sync(runtime: GatewayRuntime): void {
    this.runtime = runtime;
    const live = new Set<string>();
    for (const provider of runtime.config.providers) {
      if (provider.healthCheck.probe === "none") continue;
      live.add(provider.id);
      const fingerprint = scheduleFingerprint(provider);
      if (this.schedules.get(provider.id)?.fingerprint === fingerprint) continue;
      this.cancel(provider.id);
      const schedule: Schedule = { fingerprint, timer: undefined, stopped: false };
      this.schedules.set(provider.id, schedule);
      this.arm(
        provider.id,
        schedule,
        this.random() * Math.min(provider.healthCheck.intervalMs, FIRST_PROBE_SPREAD_MS),
      );
    }
    for (const id of [...this.schedules.keys()]) if (!live.has(id)) this.cancel(id);
  }

  stop(): void {
    for (const id of [...this.schedules.keys()]) this.cancel(id);
  }

  /** Probes one provider now with the adapters of the snapshot in force. */
  async probe(providerId: string): Promise<void> {
    const provider = this.runtime?.providers.get(providerId);
    const adapter = this.runtime?.adapters.get(providerId);
    if (!provider || !adapter || provider.healthCheck.probe === "none") return;
    if (provider.healthCheck.probe === "models") {
      const error = await this.run(provider, (ctx) => adapter.probe(ctx));
      for (const model of provider.models) this.states.recordProbe(this.states.get(provider, model), error);
      return;
    }
    for (const model of provider.models) {
      const error = await this.run(provider, (ctx) => probeModel(adapter, model, ctx));
      this.states.recordProbe(this.states.get(provider, model), error);
    }
  }

  private async run(
    provider: CompiledProvider,
    call: (ctx: CallContext) => Promise<void>,
  ): Promise<ErrorClass | undefined> {
    const { ctx, done } = probeContext(provider);
    try {
      await call(ctx);
      return undefined;
    } catch (err) {
      return failureClass(err);
    } finally {
      done();
    }
  }

  private arm(providerId: string, schedule: Schedule, delayMs: number): void {
    schedule.timer = setTimeout(() => {
      void this.probe(providerId).finally(() => {
        const provider = this.runtime?.providers.get(providerId);
        if (!schedule.stopped && provider) this.arm(providerId, schedule, provider.healthCheck.intervalMs);
      });
    }, delayMs);
    schedule.timer.unref();
  }

  private cancel(providerId: string): void {
    const schedule = this.schedules.get(providerId);
    if (!schedule) return;
    schedule.stopped = true;
    clearTimeout(schedule.timer);
    this.schedules.delete(providerId);
  }
}
