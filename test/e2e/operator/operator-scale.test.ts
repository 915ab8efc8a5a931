/**
 * Scale: 2,000 LLMRoutes over 500 LLMProviders (10 namespaces). Measures how long a freshly
 * started operator takes to converge (every resource Ready=True), its memory once converged, and
 * route-change-to-live latency through a gateway at that size. Heavy, so it runs only with
 * SWITCHBOARD_SCALE=1; results go to $SWITCHBOARD_BENCH_OUT (see docs/benchmarks.md).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForHttp, type CliProcess } from "../../support/cli-process.js";
import { freePort } from "../../support/free-port.js";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import {
  applyObject,
  clientsFor,
  ensureNamespace,
  installChartRbac,
  installCrds,
  RELEASE_NAMESPACE,
  runGatewayCli,
  runOperatorCli,
  routeManifest,
  serviceAccountKubeconfig,
  testKubeconfigs,
  uniqueName,
  waitFor,
  type CustomResource,
  type KubeClients,
} from "../../integration/operator/operator-kit.js";

const NAMESPACES = 10;
const PROVIDERS_PER_NAMESPACE = 50;
const ROUTES_PER_NAMESPACE = 200;
const run = uniqueName("scale");
const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `${run}-${i}`);
const snapshotName = `${run}-config`;

let admin: KubeClients;
let upstream: OpenAiFake;
let tempDir: string;
const processes: CliProcess[] = [];
const results: Record<string, unknown> = {};

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function countReady(plural: "llmproviders" | "llmroutes"): Promise<number> {
  let ready = 0;
  for (const namespace of namespaces) {
    const list = (await admin.custom.listNamespacedCustomObject({
      group: "llm.switchboard.dev",
      version: "v1alpha1",
      namespace,
      plural,
    })) as {
      items: CustomResource[];
    };
    ready += list.items.filter((o) =>
      o.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    ).length;
  }
  return ready;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(
    text
      .split("\n")
      .find((l) => l.startsWith(`${name} `))
      ?.split(" ")[1] ?? NaN,
  );
}

describe.runIf(process.env.SWITCHBOARD_SCALE === "1")(
  "operator at scale: 2,000 routes over 500 providers",
  () => {
    beforeAll(async () => {
      admin = clientsFor(testKubeconfigs().admin);
      await installCrds(admin);
      await installChartRbac(admin);
      upstream = await startOpenAiFake({ apiKey: "sk-scale-0123456789" });
      tempDir = await mkdtemp(path.join(tmpdir(), "switchboard-scale-"));
      const created = Date.now();
      for (const namespace of namespaces) {
        await ensureNamespace(admin, namespace);
        await applyObject(admin, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "key", namespace },
          stringData: { apiKey: "sk-scale-0123456789" },
        } as never);
      }
      const providers = namespaces.flatMap((namespace) =>
        Array.from({ length: PROVIDERS_PER_NAMESPACE }, (_, i) => ({
          namespace,
          body: {
            apiVersion: "llm.switchboard.dev/v1alpha1",
            kind: "LLMProvider",
            metadata: { name: `p-${i}`, namespace },
            spec: {
              type: "openai-compatible",
              endpoint: upstream.baseUrl,
              credentials: { secretRef: { name: "key", key: "apiKey" } },
              models: [{ name: "gpt-4o-mini" }, { name: "gpt-4o" }],
              healthCheck: { probe: "none" },
            },
          },
        })),
      );
      const routes = namespaces.flatMap((namespace, n) =>
        Array.from({ length: ROUTES_PER_NAMESPACE }, (_, i) => ({
          namespace,
          body: routeManifest(namespace, `r-${i}`, {
            model: `m-${n}-${i}`,
            strategy: "priority",
            targets: [
              { provider: `p-${i % PROVIDERS_PER_NAMESPACE}`, model: "gpt-4o-mini" },
              { provider: `p-${(i + 1) % PROVIDERS_PER_NAMESPACE}`, model: "gpt-4o" },
            ],
          }),
        })),
      );
      const create = (plural: string) => async (item: { namespace: string; body: object }) =>
        admin.custom.createNamespacedCustomObject({
          group: "llm.switchboard.dev",
          version: "v1alpha1",
          namespace: item.namespace,
          plural,
          body: item.body,
        });
      await inParallel(providers, 16, create("llmproviders"));
      await inParallel(routes, 16, create("llmroutes"));
      results.createSeconds = (Date.now() - created) / 1000;
    }, 1_800_000);

    afterAll(async () => {
      for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) await p.stop();
      await upstream?.close();
      for (const namespace of namespaces)
        await admin?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
      if (process.env.SWITCHBOARD_BENCH_OUT)
        await writeFile(process.env.SWITCHBOARD_BENCH_OUT, JSON.stringify(results, null, 2));
    }, 300_000);

    it("converges, then serves route changes within 2 s", async () => {
      const metricsPort = await freePort();
      const started = Date.now();
      const operator = runOperatorCli({
        kubeconfig: testKubeconfigs().operator,
        namespaces,
        snapshot: `${RELEASE_NAMESPACE}/${snapshotName}`,
        leaderElectionId: `${snapshotName}-leader`,
        metricsPort,
        extra: ["--workers", "4"],
      });
      processes.push(operator);
      const total = NAMESPACES * (PROVIDERS_PER_NAMESPACE + ROUTES_PER_NAMESPACE);
      await waitFor(
        async () => (await countReady("llmproviders")) + (await countReady("llmroutes")) === total,
        600_000,
        1000,
      );
      results.convergeSeconds = (Date.now() - started) / 1000;
      results.operatorRssMiB = Math.round(
        (await metric(metricsPort, "process_resident_memory_bytes")) / 2 ** 20,
      );
      results.operatorHeapMiB = Math.round(
        (await metric(metricsPort, "nodejs_heap_size_used_bytes")) / 2 ** 20,
      );

      const [port, adminPort] = [await freePort(), await freePort()];
      const kubeconfig = path.join(tempDir, "gateway.kubeconfig");
      await serviceAccountKubeconfig(admin, RELEASE_NAMESPACE, "switchboard-gateway", kubeconfig);
      const gateway = runGatewayCli({
        snapshot: `${RELEASE_NAMESPACE}/${snapshotName}`,
        kubeconfig,
        port,
        adminPort,
      });
      processes.push(gateway);
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/readyz`, 60_000);

      const namespace = namespaces[0]!;
      const latencies: number[] = [];
      for (let i = 0; i < 20; i++) {
        const target = `p-${(i * 7 + 3) % PROVIDERS_PER_NAMESPACE}`;
        await applyObject(
          admin,
          routeManifest(namespace, "r-0", {
            model: "m-0-0",
            targets: [{ provider: target, model: "gpt-4o-mini" }],
          }),
        );
        const applied = Date.now();
        for (;;) {
          const res = await fetch(`${url}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ model: "m-0-0", messages: [{ role: "user", content: "hi" }] }),
          });
          await res.arrayBuffer();
          if (res.headers.get("x-switchboard-provider") === `${namespace}/${target}`) break;
          if (Date.now() - applied > 30_000) throw new Error(`change ${i} not live after 30 s`);
          await new Promise((r) => setTimeout(r, 10));
        }
        latencies.push(Date.now() - applied);
      }
      const sorted = [...latencies].sort((a, b) => a - b);
      results.routeChange = {
        changes: sorted.length,
        p50Ms: sorted[9],
        p95Ms: sorted[18],
        maxMs: sorted[19],
      };
      results.snapshotBytes = await metric(metricsPort, "switchboard_operator_snapshot_bytes");
      expect(sorted[18]).toBeLessThan(2000);
    }, 1_200_000);
  },
);
