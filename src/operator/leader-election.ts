import { V1MicroTime, type CoordinationV1Api, type V1Lease, type V1LeaseSpec } from "@kubernetes/client-node";
import type { Logger } from "../shared/logging.js";
import { describeKubeError, isApiError } from "./kube-errors.js";

export interface LeaderElectionOptions {
  /** The subset of CoordinationV1Api the algorithm uses (tests pass an in-memory one). */
  leases: Pick<CoordinationV1Api, "readNamespacedLease" | "createNamespacedLease" | "replaceNamespacedLease">;
  namespace: string;
  name: string;
  identity: string;
  /** How long a non-leader waits after the last observed renewal before taking over. */
  leaseDurationMs?: number;
  /** How long the leader keeps retrying a failed renewal before it gives up leadership. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. */
  retryPeriodMs?: number;
  logger: Logger;
  onNewLeader?: (identity: string) => void;
}

type Attempt = "acquired" | "held-by-other" | "conflict" | "failed";

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });

/**
 * Leader election on a coordination.k8s.io Lease, following client-go's leaderelection package:
 * candidates retry every retryPeriod; a lease is free when its holder is empty or its renewal is
 * older than leaseDuration as measured by *our* clock since we last saw it change (so clock skew
 * between nodes does not matter); the leader renews every retryPeriod and steps down if it cannot
 * renew within renewDeadline. A 409 Conflict on update means another candidate wrote the Lease
 * first: we did not get it, or, as leader, we lost it.
 */
export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private observed: { key: string; at: number } | undefined;
  private observedLease: V1Lease | undefined;
  private leader = false;
  private readonly abort = new AbortController();
  private lastHolder: string | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs)
      throw new Error("renewDeadline must be shorter than leaseDuration");
    if (this.retryPeriodMs * 1.2 >= this.renewDeadlineMs)
      throw new Error("retryPeriod must be well below renewDeadline");
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** Resolves once this candidate holds the lease; rejects if stopped first. */
  async acquire(): Promise<void> {
    for (;;) {
      if (this.abort.signal.aborted) throw new Error("leader election stopped before the lease was acquired");
      const attempt = await this.tryAcquireOrRenew();
      if (attempt === "acquired") {
        this.leader = true;
        this.options.logger.info(
          { lease: this.leaseName(), identity: this.options.identity },
          "became leader",
        );
        return;
      }
      await sleep(this.retryPeriodMs * (1 + Math.random() * 0.2), this.abort.signal);
    }
  }

  /**
   * Renews until leadership is lost (resolves with the reason) or stop()/release() is called
   * (resolves with undefined).
   */
  async holdLeadership(): Promise<string | undefined> {
    while (!this.abort.signal.aborted) {
      await sleep(this.retryPeriodMs, this.abort.signal);
      if (this.abort.signal.aborted) return undefined;
      const deadline = Date.now() + this.renewDeadlineMs;
      for (;;) {
        const attempt = await this.tryAcquireOrRenew();
        if (this.abort.signal.aborted) return undefined;
        if (attempt === "acquired") break;
        if (attempt === "conflict" || attempt === "held-by-other")
          return this.lose(`another candidate holds the lease (${attempt})`);
        if (Date.now() >= deadline)
          return this.lose(`could not renew the lease within ${this.renewDeadlineMs} ms`);
        await sleep(this.retryPeriodMs, this.abort.signal);
      }
    }
    return undefined;
  }

  /** Stops campaigning and renewing, without touching the lease. */
  stop(): void {
    this.abort.abort();
  }

  /**
   * Graceful shutdown: stops renewing and clears the holder so a standby takes over at once.
   * A renew still in flight can move the Lease on, so the release re-reads it and retries on 409.
   */
  async release(): Promise<void> {
    this.stop();
    if (!this.leader || !this.observedLease) return;
    this.leader = false;
    const { leases, namespace, name } = this.options;
    for (let attempt = 1; ; attempt++) {
      try {
        const lease =
          attempt === 1 ? this.observedLease : await leases.readNamespacedLease({ namespace, name });
        if (lease.spec?.holderIdentity !== this.options.identity) return;
        const now = new V1MicroTime();
        await leases.replaceNamespacedLease({
          namespace,
          name,
          body: {
            metadata: { ...lease.metadata, name, namespace },
            spec: {
              ...lease.spec,
              holderIdentity: "",
              leaseDurationSeconds: 1,
              acquireTime: now,
              renewTime: now,
            },
          },
        });
        this.options.logger.info({ lease: this.leaseName() }, "released the lease");
        return;
      } catch (err) {
        if (isApiError(err, 409) && attempt < 3) continue;
        this.options.logger.warn(
          { lease: this.leaseName(), error: describeKubeError(err) },
          "could not release the lease; it expires on its own",
        );
        return;
      }
    }
  }

  private lose(reason: string): string {
    this.leader = false;
    this.options.logger.error({ lease: this.leaseName(), reason }, "lost leadership");
    return reason;
  }

  private leaseName(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  private spec(previous: V1LeaseSpec | undefined, now: V1MicroTime): V1LeaseSpec {
    const mine = previous?.holderIdentity === this.options.identity;
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: mine && previous?.acquireTime ? new V1MicroTime(previous.acquireTime) : now,
      renewTime: now,
      leaseTransitions: mine ? (previous?.leaseTransitions ?? 0) : (previous?.leaseTransitions ?? -1) + 1,
    };
  }

  private observe(lease: V1Lease): void {
    const spec = lease.spec ?? {};
    const key = JSON.stringify([
      spec.holderIdentity,
      String(spec.renewTime),
      String(spec.acquireTime),
      spec.leaseTransitions,
    ]);
    if (this.observed?.key !== key) this.observed = { key, at: Date.now() };
    this.observedLease = lease;
    const holder = spec.holderIdentity || undefined;
    if (holder !== this.lastHolder) {
      this.lastHolder = holder;
      if (holder) this.options.onNewLeader?.(holder);
    }
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { leases, namespace, name } = this.options;
    const now = new V1MicroTime();
    let lease: V1Lease;
    try {
      lease = await leases.readNamespacedLease({ namespace, name });
    } catch (err) {
      if (!isApiError(err, 404)) {
        this.options.logger.warn(
          { lease: this.leaseName(), error: describeKubeError(err) },
          "could not read the lease",
        );
        return "failed";
      }
      try {
        const created = await leases.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: this.spec(undefined, now) },
        });
        this.observe(created);
        return "acquired";
      } catch (createErr) {
        if (isApiError(createErr, 409)) return "conflict";
        this.options.logger.warn(
          { lease: this.leaseName(), error: describeKubeError(createErr) },
          "could not create the lease",
        );
        return "failed";
      }
    }
    this.observe(lease);
    const holder = lease.spec?.holderIdentity;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? Math.ceil(this.leaseDurationMs / 1000)) * 1000;
    if (holder && holder !== this.options.identity && this.observed!.at + durationMs > Date.now())
      return "held-by-other";
    try {
      const updated = await leases.replaceNamespacedLease({
        namespace,
        name,
        body: { metadata: { ...lease.metadata, name, namespace }, spec: this.spec(lease.spec, now) },
      });
      this.observe(updated);
      return "acquired";
    } catch (err) {
      if (isApiError(err, 409)) return "conflict";
      this.options.logger.warn(
        { lease: this.leaseName(), error: describeKubeError(err) },
        "could not update the lease",
      );
      return "failed";
    }
  }
}
