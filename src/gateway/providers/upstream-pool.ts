import { Agent } from "undici";
import type { CompiledProvider } from "../../shared/schemas/gateway-config.js";
import { PoolExhaustedError } from "./pool-exhausted-error.js";

/**
 * One connection pool per provider (spec.connectionPool): the undici Agent its requests go
 * through, capped at maxConnections, and a gate in front of it that keeps the count of requests
 * holding a connection. undici would queue requests past its cap without bound and without
 * telling anyone; the gate makes that queue bounded (maxQueued), time-limited (queueTimeout and
 * the attempt's own deadlines) and visible in metrics.
 */

export interface PoolSlot {
  /** How long the request waited for its connection. */
  waitedMs: number;
  /** Gives the connection back; safe to call more than once. */
  release(): void;
}

export interface PoolStats {
  providerId: string;
  maxConnections: number;
  inUse: number;
  waiting: number;
  refusedQueueFull: number;
  refusedQueueTimeout: number;
}

interface Waiter {
  grant(): void;
}

export class UpstreamPool {
  readonly agent: Agent;
  private inUse = 0;
  private readonly queue: Waiter[] = [];
  private refusedQueueFull = 0;
  private refusedQueueTimeout = 0;

  constructor(
    private readonly providerId: string,
    private readonly settings: CompiledProvider["connectionPool"],
    connectMs: number,
  ) {
    this.agent = new Agent({
      connect: { timeout: connectMs },
      keepAliveTimeout: 30_000,
      connections: settings.maxConnections,
    });
  }

  /** Waits for a free connection, at most until `deadlineMs` or queueTimeout, whichever is sooner. */
  acquire(signal: AbortSignal, deadlineMs: number): Promise<PoolSlot> {
    const started = Date.now();
    if (this.inUse < this.settings.maxConnections) {
      this.inUse++;
      return Promise.resolve(this.slot(0));
    }
    const { maxConnections, maxQueued, queueTimeoutMs } = this.settings;
    if (this.queue.length >= maxQueued) {
      this.refusedQueueFull++;
      return Promise.reject(
        new PoolExhaustedError(
          this.providerId,
          `all ${maxConnections} connections to LLMProvider ${this.providerId} are in use and ${maxQueued} ` +
            `requests already wait for one (spec.connectionPool.maxConnections and spec.connectionPool.maxQueued); ` +
            `retry after the time in Retry-After`,
        ),
      );
    }
    const waitMs = Math.min(queueTimeoutMs, deadlineMs);
    return new Promise<PoolSlot>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
      };
      const waiter: Waiter = {
        grant: () => {
          leave();
          resolve(this.slot(Date.now() - started));
        },
      };
      const onAbort = () => {
        leave();
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        leave();
        this.refusedQueueTimeout++;
        reject(
          new PoolExhaustedError(
            this.providerId,
            `waited ${waitMs} ms for one of the ${maxConnections} connections to LLMProvider ${this.providerId} ` +
              `and none came free (spec.connectionPool.queueTimeout, spec.connectionPool.maxConnections); ` +
              `retry after the time in Retry-After`,
          ),
        );
      }, waitMs);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  stats(): PoolStats {
    return {
      providerId: this.providerId,
      maxConnections: this.settings.maxConnections,
      inUse: this.inUse,
      waiting: this.queue.length,
      refusedQueueFull: this.refusedQueueFull,
      refusedQueueTimeout: this.refusedQueueTimeout,
    };
  }

  /** Closes the agent once the requests still using it have finished. */
  retire(): void {
    void this.agent.close();
  }

  private slot(waitedMs: number): PoolSlot {
    let released = false;
    return {
      waitedMs,
      release: () => {
        if (released) return;
        released = true;
        const next = this.queue.shift();
        // The connection passes straight to the next in line, so inUse stays as it is.
        if (next) next.grant();
        else this.inUse--;
      },
    };
  }
}

const pools = new Map<string, { fingerprint: string; pool: UpstreamPool }>();

/**
 * The provider's pool, kept across config snapshots that leave its settings alone; a changed pool
 * replaces the old one, whose requests finish on it before its agent closes.
 */
export function upstreamPoolFor(provider: CompiledProvider): UpstreamPool {
  const fingerprint = JSON.stringify([provider.connectionPool, provider.timeouts.connectMs]);
  const cached = pools.get(provider.id);
  if (cached?.fingerprint === fingerprint) return cached.pool;
  const pool = new UpstreamPool(provider.id, provider.connectionPool, provider.timeouts.connectMs);
  pools.set(provider.id, { fingerprint, pool });
  cached?.pool.retire();
  return pool;
}

export function upstreamPoolStats(): PoolStats[] {
  return [...pools.values()].map(({ pool }) => pool.stats());
}
