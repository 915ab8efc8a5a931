/**
 * What a user does on a real cluster (npm run test:cluster): helm install with the built image,
 * an in-cluster upstream behind a provider and a route, requests through the gateway Service
 * from a pod, health in `kubectl get llmproviders`, operator failover, a gateway rollout under
 * load, a ServiceAccount consumer with its projected token, and manifests from a ConfigMap.
 * Each step builds on the one before, so they run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  apply,
  clusterIp,
  CONTAINER_SECURITY,
  getJson,
  IMAGE,
  imageDeployment,
  installRelease,
  isReady,
  kubectl,
  nodeInPod,
  podOf,
  POD_SECURITY,
  RELEASE,
  RELEASE_NAMESPACE,
  service,
  spawnNodeInPod,
  waitFor,
  type Pod,
} from "./cluster-kit.js";

const ns = `e2e-${Date.now().toString(36)}`;
const GROUP = "llm.switchboard.dev";
const model = "e2e-chat";
let gatewayUrl: string;
let clientPod: string;

function chatScript(
  url: string,
  chatModel: string,
  opts: { text?: string; withToken?: boolean } = {},
): string {
  return `
    import { readFileSync } from "node:fs";
    const headers = { "content-type": "application/json" };
    if (${Boolean(opts.withToken)}) {
      headers.authorization = "Bearer " + readFileSync("/var/run/secrets/kubernetes.io/serviceaccount/token", "utf8");
    }
    const res = await fetch(${JSON.stringify(`${url}/v1/chat/completions`)}, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: ${JSON.stringify(chatModel)}, messages: [{ role: "user", content: ${JSON.stringify(opts.text ?? "hello")} }] }),
    });
    console.log(JSON.stringify({ status: res.status, body: await res.text() }));`;
}

async function chat(
  chatModel = model,
  opts: { text?: string; withToken?: boolean } = {},
): Promise<{ status: number; body: string }> {
  return JSON.parse(await nodeInPod(ns, clientPod, chatScript(gatewayUrl, chatModel, opts))) as {
    status: number;
    body: string;
  };
}

/** The HEALTH and CIRCUIT columns of `kubectl get llmproviders`, as a user reads them. */
async function providerColumns(name: string): Promise<{ health: string; circuit: string }> {
  const [header, row] = (await kubectl(["get", "llmproviders", "-n", ns, name])).trimEnd().split("\n");
  const column = (title: string) => {
    const start = header!.indexOf(title);
    return row!.slice(start).split(/\s+/)[0]!;
  };
  return { health: column("HEALTH"), circuit: column("CIRCUIT") };
}

async function routeReady(name: string): Promise<boolean> {
  const route = await getJson<{ status?: { conditions?: Array<{ type: string; status: string }> } }>([
    "get",
    `llmroutes.${GROUP}`,
    "-n",
    ns,
    name,
  ]);
  return route.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

function route(name: string, routeModel: string, extra: Record<string, unknown> = {}): object {
  return {
    apiVersion: `${GROUP}/v1alpha1`,
    kind: "LLMRoute",
    metadata: { name, namespace: ns },
    spec: { model: routeModel, targets: [{ provider: "upstream", model: "demo-chat" }], ...extra },
  };
}

async function operatorPods(): Promise<Pod[]> {
  const pods = await getJson<{ items: Pod[] }>([
    "get",
    "pods",
    "-n",
    RELEASE_NAMESPACE,
    "-l",
    `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=operator`,
  ]);
  return pods.items;
}

async function leaseHolder(): Promise<{ holder: string; durationSeconds: number }> {
  const lease = await getJson<{ spec: { holderIdentity?: string; leaseDurationSeconds: number } }>([
    "get",
    "lease",
    "-n",
    RELEASE_NAMESPACE,
    "switchboard-operator",
  ]);
  return { holder: lease.spec.holderIdentity ?? "", durationSeconds: lease.spec.leaseDurationSeconds };
}

beforeAll(async () => {
  await kubectl(["create", "namespace", ns]);
});

afterAll(async () => {
  await kubectl(["delete", "namespace", ns, "--wait=false"]).catch(() => undefined);
});

describe.sequential("the deployment path on a real cluster", () => {
  it("helm install brings up CRDs, operator and gateways Ready with the chart's securityContext", async () => {
    await installRelease();
    for (const plural of ["llmproviders", "llmroutes", "embeddingmigrations"]) {
      const crd = await getJson<{ status: { conditions: Array<{ type: string; status: string }> } }>([
        "get",
        "crd",
        `${plural}.${GROUP}`,
      ]);
      expect(crd.status.conditions).toContainEqual(
        expect.objectContaining({ type: "Established", status: "True" }),
      );
    }
    const pods = await getJson<{ items: Pod[] }>([
      "get",
      "pods",
      "-n",
      RELEASE_NAMESPACE,
      "-l",
      `app.kubernetes.io/instance=${RELEASE}`,
    ]);
    // Pods of an earlier rollout (another file's `helm upgrade`) may still be terminating.
    const current = pods.items.filter((p) => !p.metadata.deletionTimestamp);
    const components = current.map((p) => p.metadata.labels?.["app.kubernetes.io/component"]).sort();
    expect(components).toEqual(["gateway", "gateway", "operator", "operator"]);
    for (const pod of current) {
      expect(isReady(pod), `${pod.metadata.name} Ready`).toBe(true);
      expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(pod.spec.containers[0]!.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      });
    }
    // What the process really gets: the image's non-root user and a root filesystem it cannot write.
    const gatewayPod = current.find((p) => p.metadata.labels?.["app.kubernetes.io/component"] === "gateway")!;
    const seen = await nodeInPod(
      RELEASE_NAMESPACE,
      gatewayPod.metadata.name,
      `import { writeFileSync } from "node:fs";
       let write = "written";
       try { writeFileSync("/app/probe", "x"); } catch (e) { write = e.code; }
       console.log(JSON.stringify({ uid: process.getuid(), write }));`,
    );
    expect(JSON.parse(seen)).toEqual({ uid: 65532, write: "EROFS" });
  });

  it("routes requests from a pod through the gateway Service to an in-cluster upstream", async () => {
    await apply(
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "e2e-client", namespace: ns } },
      imageDeployment(ns, "upstream", {
        args: ["demo-upstream", "--host", "0.0.0.0", "--port", "8081"],
        port: 8081,
      }),
      service(ns, "upstream", 8081),
      // A client to run requests from: the project image's node, idle until exec'd into.
      imageDeployment(
        ns,
        "client",
        { command: ["node", "-e", "setInterval(() => {}, 1 << 30)"], writableTmp: true },
        "e2e-client",
      ),
    );
    // No cluster DNS is assumed: the provider names the upstream Service by its ClusterIP.
    const upstreamIp = await clusterIp(ns, "upstream");
    gatewayUrl = `http://${await clusterIp(RELEASE_NAMESPACE, `${RELEASE}-gateway`)}`;
    await apply(
      {
        apiVersion: `${GROUP}/v1alpha1`,
        kind: "LLMProvider",
        metadata: { name: "upstream", namespace: ns },
        spec: {
          type: "openai-compatible",
          endpoint: `http://${upstreamIp}:8081/v1`,
          credentials: { none: {} },
          models: [{ name: "demo-chat" }],
          healthCheck: { interval: "1s", timeout: "1s", probe: "models" },
          circuitBreaker: { failureThreshold: 2, windowSeconds: 30, openSeconds: 5 },
        },
      },
      route("chat", model, { fallback: { maxAttempts: 1 } }),
    );
    clientPod = await podOf(ns, "client");
    await podOf(ns, "upstream");
    await waitFor("route chat Ready", () => routeReady("chat"));
    const res = await waitFor("a 200 through the gateway Service", async () => {
      const r = await chat(model, { text: "hello from a pod" });
      return r.status === 200 ? r : undefined;
    });
    expect(JSON.parse(res.body).choices[0].message.content).toContain("You said: hello from a pod");
  });

  it("kubectl get llmproviders shows the health the gateway pods see", async () => {
    const columns = await waitFor(
      "HEALTH healthy",
      async () => {
        const c = await providerColumns("upstream");
        return c.health === "healthy" ? c : undefined;
      },
      180_000,
    );
    expect(columns).toEqual({ health: "healthy", circuit: "closed" });
  });

  it("deleting the leader operator pod hands over within the Lease timing, and status keeps updating", async () => {
    const before = await leaseHolder();
    const pods = await operatorPods();
    const leader = pods.find((p) => before.holder.includes(p.metadata.name));
    expect(leader, `a pod named in holderIdentity ${before.holder}`).toBeDefined();
    const started = Date.now();
    await kubectl(["delete", "pod", "-n", RELEASE_NAMESPACE, leader!.metadata.name, "--wait=false"]);
    const after = await waitFor(
      "a new Lease holder",
      async () => {
        const now = await leaseHolder();
        return now.holder && now.holder !== before.holder ? now : undefined;
      },
      60_000,
      250,
    );
    const tookMs = Date.now() - started;
    process.stdout.write(`operator failover: new Lease holder after ${tookMs} ms\n`);
    expect(after.holder).not.toContain(leader!.metadata.name);
    // A leader that releases is replaced within a retry period (2 s); one that never did, once its
    // lease runs out. A second lease duration is slack for a loaded 2-core machine.
    expect(tookMs).toBeLessThan(2 * before.durationSeconds * 1000);
    // The new leader compiles what changes after the handover.
    await apply(route("after-failover", "e2e-after-failover"));
    await waitFor(
      "route after-failover Ready under the new leader",
      () => routeReady("after-failover"),
      60_000,
    );
    expect((await chat("e2e-after-failover")).status).toBe(200);
  });

  it("stopping the upstream Deployment flips HEALTH and CIRCUIT, and starting it flips them back", async () => {
    await kubectl(["scale", "deployment", "-n", ns, "upstream", "--replicas=0"]);
    try {
      const down = await waitFor("HEALTH unhealthy, CIRCUIT open", async () => {
        const c = await providerColumns("upstream");
        return c.health === "unhealthy" && c.circuit === "open" ? c : undefined;
      });
      expect(down).toEqual({ health: "unhealthy", circuit: "open" });
    } finally {
      await kubectl(["scale", "deployment", "-n", ns, "upstream", "--replicas=1"]);
    }
    const up = await waitFor("HEALTH healthy again", async () => {
      const c = await providerColumns("upstream");
      return c.health === "healthy" && c.circuit === "closed" ? c : undefined;
    });
    expect(up).toEqual({ health: "healthy", circuit: "closed" });
  });

  it("rolling the gateway Deployment under steady load fails no request", async () => {
    // Four clients with keep-alive connections, as an SDK would hold them, until /tmp/stop appears.
    const load = await spawnNodeInPod(
      ns,
      clientPod,
      `import { existsSync, rmSync } from "node:fs";
       rmSync("/tmp/stop", { force: true });
       const counts = { ok: 0, failed: 0, errors: {} };
       const started = Date.now();
       const stopped = () => existsSync("/tmp/stop") || Date.now() - started > 240_000;
       const body = JSON.stringify({ model: ${JSON.stringify(model)}, messages: [{ role: "user", content: "steady" }] });
       async function client() {
         while (!stopped()) {
           let error;
           try {
             const res = await fetch(${JSON.stringify(`${gatewayUrl}/v1/chat/completions`)}, {
               method: "POST", headers: { "content-type": "application/json" }, body,
             });
             await res.text();
             if (res.status !== 200) error = "HTTP " + res.status;
           } catch (e) { error = String(e.cause?.code ?? e.message); }
           if (error) { counts.failed++; counts.errors[error] = (counts.errors[error] ?? 0) + 1; } else counts.ok++;
           await new Promise((r) => setTimeout(r, 50));
         }
       }
       await Promise.all([client(), client(), client(), client()]);
       console.log(JSON.stringify(counts));`,
    );
    let out = "";
    let err = "";
    load.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    load.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    const exited = new Promise<number | null>((resolve) => load.once("exit", resolve));
    await new Promise((r) => setTimeout(r, 5_000));
    await kubectl(["rollout", "restart", "deployment", "-n", RELEASE_NAMESPACE, `${RELEASE}-gateway`]);
    await kubectl([
      "rollout",
      "status",
      "deployment",
      "-n",
      RELEASE_NAMESPACE,
      `${RELEASE}-gateway`,
      "--timeout=180s",
    ]);
    await new Promise((r) => setTimeout(r, 5_000));
    await nodeInPod(
      ns,
      clientPod,
      `import { writeFileSync } from "node:fs"; writeFileSync("/tmp/stop", "");`,
    );
    expect(await exited, err).toBe(0);
    const counts = JSON.parse(out) as { ok: number; failed: number; errors: Record<string, number> };
    process.stdout.write(`gateway rollout under load: ${out}`);
    expect(counts.errors).toEqual({});
    expect(counts.failed).toBe(0);
    expect(counts.ok).toBeGreaterThan(100);
  });

  it("a ServiceAccount consumer authenticates from inside a pod with its projected token", async () => {
    await apply(
      route("sa-chat", "e2e-sa-chat", {
        consumers: [{ name: "in-cluster-client", serviceAccount: { name: "e2e-client" } }],
      }),
    );
    await waitFor("route sa-chat Ready", () => routeReady("sa-chat"));
    const ok = await waitFor("a 200 with the pod's token", async () => {
      const r = await chat("e2e-sa-chat", { withToken: true });
      return r.status === 200 ? r : undefined;
    });
    expect(JSON.parse(ok.body).choices[0].message.content).toContain("You said: hello");
    expect((await chat("e2e-sa-chat")).status).toBe(401);
  });

  it("loads manifests mounted from a ConfigMap (..data symlinks)", async () => {
    const manifests = `apiVersion: ${GROUP}/v1alpha1
kind: LLMProvider
metadata: { name: mounted, namespace: default }
spec:
  type: openai-compatible
  endpoint: http://127.0.0.1:8081/v1
  credentials: { none: {} }
  models: [{ name: demo-chat }]
`;
    const routeYaml = `apiVersion: ${GROUP}/v1alpha1
kind: LLMRoute
metadata: { name: mounted, namespace: default }
spec:
  model: mounted-chat
  targets: [{ provider: mounted, model: demo-chat }]
`;
    await apply(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "manifests", namespace: ns },
        data: { "provider.yaml": manifests, "route.yaml": routeYaml },
      },
      {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "compile-mounted", namespace: ns },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: "Never",
              securityContext: POD_SECURITY,
              containers: [
                {
                  name: "compile",
                  image: IMAGE,
                  imagePullPolicy: "Never",
                  args: ["compile", "/manifests"],
                  securityContext: CONTAINER_SECURITY,
                  volumeMounts: [{ name: "manifests", mountPath: "/manifests", readOnly: true }],
                },
              ],
              volumes: [{ name: "manifests", configMap: { name: "manifests" } }],
            },
          },
        },
      },
    );
    const outcome = await waitFor("the compile Job to finish", async () => {
      const job = await getJson<{ status: { succeeded?: number; failed?: number } }>([
        "get",
        "job",
        "-n",
        ns,
        "compile-mounted",
      ]);
      return job.status.succeeded ? "succeeded" : job.status.failed ? "failed" : undefined;
    });
    const logs = await kubectl(["logs", "-n", ns, "job/compile-mounted"]);
    expect(outcome, logs).toBe("succeeded");
    expect(logs).toContain('"mounted-chat"');
  });
});
