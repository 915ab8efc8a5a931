/**
 * Leader election between two operator processes (the real CLI) on one Lease: one leads, the
 * other waits; when the leader is killed the standby takes over within the lease duration and
 * reconciles; a graceful shutdown releases the Lease so the standby takes over at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliProcess } from "../../support/cli-process.js";
import {
  applyObject,
  condition,
  getCustom,
  prepareCluster,
  providerManifest,
  RELEASE_NAMESPACE,
  runOperatorCli,
  uniqueName,
  waitFor,
  type KubeClients,
} from "./operator-kit.js";

const LEASE_SECONDS = 4;
const namespace = uniqueName("election");
const lease = uniqueName("lease");
const snapshot = `${RELEASE_NAMESPACE}/${uniqueName("gateway-config")}`;
let admin: KubeClients;
let operatorKubeconfig: string;
const processes: CliProcess[] = [];

function startOperatorProcess(): CliProcess {
  const cli = runOperatorCli({
    kubeconfig: operatorKubeconfig,
    namespaces: [namespace],
    snapshot,
    leaderElectionId: lease,
    metricsPort: 0,
    extra: ["--lease-duration", `${LEASE_SECONDS}s`, "--renew-deadline", "3s", "--retry-period", "500ms"],
  });
  processes.push(cli);
  return cli;
}

async function holder(): Promise<string | undefined> {
  const l = await admin.kc
    .makeApiClient((await import("@kubernetes/client-node")).CoordinationV1Api)
    .readNamespacedLease({ namespace: RELEASE_NAMESPACE, name: lease });
  return l.spec?.holderIdentity || undefined;
}

function identityOf(cli: CliProcess): string | undefined {
  return /"identity":"([^"]+)"/.exec(cli.output())?.[1];
}

beforeAll(async () => {
  ({ admin, operatorKubeconfig } = await prepareCluster([namespace]));
}, 600_000);

/** runCli's stop() waits for an exit that a SIGKILLed child already had. */
async function stopProcess(p: CliProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  await p.stop();
}

afterAll(async () => {
  for (const p of processes) await stopProcess(p);
  await admin?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe("leader election across operator processes", () => {
  it("runs one leader; a killed leader is replaced within the lease duration", async () => {
    const first = startOperatorProcess();
    await first.waitForOutput(/became leader/, 30_000);
    const second = startOperatorProcess();
    await second.waitForOutput(/waiting for leadership/, 30_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(second.output()).not.toMatch(/became leader/);
    expect(await holder()).toBe(identityOf(first));

    const killedAt = Date.now();
    first.child.kill("SIGKILL");
    await second.waitForOutput(/became leader/, (LEASE_SECONDS + 5) * 1000);
    const takeoverMs = Date.now() - killedAt;
    // The standby waits one lease duration from the last renewal it saw, then one retry period.
    expect(takeoverMs).toBeLessThan(LEASE_SECONDS * 1000 + 1500);
    expect(await holder()).toBe(identityOf(second));

    // The new leader reconciles.
    await applyObject(
      admin,
      providerManifest(namespace, "local", {
        type: "openai-compatible",
        endpoint: "http://127.0.0.1:9/v1",
        credentials: { none: {} },
        models: [{ name: "m" }],
      }),
    );
    await waitFor(
      async () =>
        condition(await getCustom(admin, "llmproviders", namespace, "local"), "Ready")?.status === "True",
      20_000,
    );
  }, 90_000);

  it("hands over at once when the leader shuts down gracefully (the Lease is released)", async () => {
    const leader = processes[1]!;
    const standby = startOperatorProcess();
    await standby.waitForOutput(/waiting for leadership/, 30_000);
    const stoppedAt = Date.now();
    await stopProcess(leader);
    expect(leader.output()).toMatch(/released the lease/);
    await standby.waitForOutput(/became leader/, 10_000);
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_SECONDS * 1000);
  }, 60_000);
});
