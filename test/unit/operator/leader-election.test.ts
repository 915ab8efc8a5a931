import { describe, expect, it } from "vitest";
import type { V1Lease } from "@kubernetes/client-node";
import { LeaderElector } from "../../../src/operator/leader-election.js";
import { createLogger } from "../../../src/shared/logging.js";
import { Writable } from "node:stream";

const silent = createLogger("test", { destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** An in-memory Lease endpoint with the API server's optimistic concurrency (409 on a stale resourceVersion). */
class FakeLeases {
  lease: V1Lease | undefined;
  private rv = 0;
  failReads = false;

  private apiError(code: number): Error {
    return Object.assign(new Error(`HTTP ${code}`), { code });
  }

  private copy(lease: V1Lease): V1Lease {
    return JSON.parse(JSON.stringify(lease)) as V1Lease;
  }

  readNamespacedLease = async (): Promise<V1Lease> => {
    if (this.failReads) throw this.apiError(503);
    if (!this.lease) throw this.apiError(404);
    return this.copy(this.lease);
  };

  createNamespacedLease = async ({ body }: { body: V1Lease }): Promise<V1Lease> => {
    if (this.lease) throw this.apiError(409);
    this.lease = { ...this.copy(body), metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
    return this.copy(this.lease);
  };

  replaceNamespacedLease = async ({ body }: { body: V1Lease }): Promise<V1Lease> => {
    if (!this.lease) throw this.apiError(404);
    if (body.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) throw this.apiError(409);
    this.lease = { ...this.copy(body), metadata: { ...body.metadata, resourceVersion: String(++this.rv) } };
    return this.copy(this.lease);
  };

  /** Someone else writes the lease (bumps the resourceVersion). */
  steal(holder: string): void {
    this.lease = {
      ...this.lease!,
      spec: { ...this.lease!.spec, holderIdentity: holder },
      metadata: { ...this.lease!.metadata, resourceVersion: String(++this.rv) },
    };
  }
}

function elector(leases: FakeLeases, identity: string): LeaderElector {
  return new LeaderElector({
    leases: leases as never,
    namespace: "ns",
    name: "lock",
    identity,
    leaseDurationMs: 600,
    renewDeadlineMs: 400,
    retryPeriodMs: 50,
    logger: silent,
  });
}

describe("LeaderElector", () => {
  it("lets exactly one candidate lead and hands over after the leader goes silent for leaseDuration", async () => {
    const leases = new FakeLeases();
    const a = elector(leases, "a");
    const b = elector(leases, "b");
    await a.acquire();
    expect(leases.lease!.spec).toMatchObject({
      holderIdentity: "a",
      leaseDurationSeconds: 1,
      leaseTransitions: 0,
    });
    const aHolding = a.holdLeadership();
    let bLeads = false;
    const bAcquired = b.acquire().then(() => (bLeads = true));
    await new Promise((r) => setTimeout(r, 1500));
    expect(bLeads).toBe(false);
    expect(leases.lease!.spec!.holderIdentity).toBe("a");

    // The leader dies without releasing: b takes over once the lease (1 s) has not moved.
    const silentSince = Date.now();
    a.stop();
    await aHolding;
    await bAcquired;
    const waited = Date.now() - silentSince;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(1000 + 50 * 3 + 300);
    expect(leases.lease!.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    b.stop();
  });

  it("treats a 409 on renewal as lost leadership", async () => {
    const leases = new FakeLeases();
    const a = elector(leases, "a");
    await a.acquire();
    const holding = a.holdLeadership();
    leases.steal("intruder");
    expect(await holding).toMatch(/another candidate/);
    expect(a.isLeader).toBe(false);
  });

  it("steps down when it cannot renew within renewDeadline", async () => {
    const leases = new FakeLeases();
    const a = elector(leases, "a");
    await a.acquire();
    const holding = a.holdLeadership();
    leases.failReads = true;
    const started = Date.now();
    expect(await holding).toMatch(/within 400 ms/);
    expect(Date.now() - started).toBeLessThan(400 + 200);
  });

  it("releases the lease on graceful shutdown so a standby takes over at once", async () => {
    const leases = new FakeLeases();
    const a = elector(leases, "a");
    const b = elector(leases, "b");
    await a.acquire();
    void a.holdLeadership();
    const bAcquired = b.acquire();
    await new Promise((r) => setTimeout(r, 100));
    await a.release();
    expect(leases.lease!.spec!.holderIdentity).toBe("");
    const started = Date.now();
    await bAcquired;
    expect(Date.now() - started).toBeLessThan(300);
    b.stop();
  });

  it("still releases when the Lease moved on since it was last seen (a renew raced the shutdown)", async () => {
    const leases = new FakeLeases();
    const a = elector(leases, "a");
    await a.acquire();
    leases.steal("a");
    await a.release();
    expect(leases.lease!.spec!.holderIdentity).toBe("");
  });

  it("leaves a Lease another holder took alone", async () => {
    const leases = new FakeLeases();
    const a = elector(leases, "a");
    await a.acquire();
    leases.steal("b");
    await a.release();
    expect(leases.lease!.spec!.holderIdentity).toBe("b");
  });
});
