/**
 * The chart's values with the real helm (built by test/controlplane/build.sh): values.schema.json
 * refuses bad values at `helm template`, `helm lint` and `helm install` with the key's path and
 * what is wrong, and the install leaves nothing behind on the API server; the disruption budgets,
 * network policies, ServiceMonitor and workload-identity label select what they mean to.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ensureControlPlaneBinaries } from "../../support/control-plane.js";
import { CHART, find, helmRunner, parseObjects, run, type K8sObject, type RunResult } from "./chart-kit.js";

const RELEASE = "sb";
const NAMESPACE = "chart-values";

let helm: (...args: string[]) => Promise<RunResult>;
let kubectl: (...args: string[]) => Promise<RunResult>;
let helmHome: string;

beforeAll(async () => {
  const binDir = await ensureControlPlaneBinaries();
  const kubeconfig =
    (inject("switchboardKubeconfig") as string | undefined) ?? process.env.SWITCHBOARD_TEST_KUBECONFIG ?? "";
  helmHome = await mkdtemp(path.join(tmpdir(), "switchboard-helm-values-"));
  helm = helmRunner(binDir, helmHome, kubeconfig);
  kubectl = (...args) => run(path.join(binDir, "kubectl"), args, "", { KUBECONFIG: kubeconfig });
  const ns = await kubectl("create", "namespace", NAMESPACE);
  if (ns.code !== 0 && !ns.stderr.includes("AlreadyExists")) throw new Error(ns.stderr);
}, 600_000);

afterAll(async () => {
  await kubectl?.("delete", "namespace", NAMESPACE, "--wait=false", "--ignore-not-found");
  if (helmHome) await rm(helmHome, { recursive: true, force: true });
});

async function render(...values: string[]): Promise<K8sObject[]> {
  const r = await helm("template", RELEASE, CHART, "--namespace", NAMESPACE, ...values);
  if (r.code !== 0) throw new Error(`helm template ${values.join(" ")} failed:\n${r.stderr}`);
  return parseObjects(r.stdout);
}

/** A value (as --set takes it, or a values file's YAML) and what helm must say about it. */
const BAD_VALUES: Array<[string, string[], string]> = [
  [
    "a misspelt key",
    ["--set", "gateway.replica=3"],
    "at '/gateway': additional properties 'replica' not allowed",
  ],
  ["a misplaced key", ["--set", "redisUrl=redis://r:6379"], "additional properties 'redisUrl' not allowed"],
  ["no replicas", ["--set", "gateway.replicas=0"], "at '/gateway/replicas': minimum: got 0, want 1"],
  [
    "a timeout without its unit",
    ["--set", "gateway.requestLimits.headersTimeout=10"],
    "at '/gateway/requestLimits/headersTimeout': got number, want string",
  ],
  [
    "an unknown request limit",
    ["--set", "gateway.requestLimits.maxBody=1"],
    "at '/gateway/requestLimits': additional properties 'maxBody' not allowed",
  ],
  [
    "an unknown pull policy",
    ["--set", "image.pullPolicy=Sometimes"],
    "at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'",
  ],
  [
    "a namespace string instead of a list",
    ["--set", "operator.watchNamespaces=team-a"],
    "at '/operator/watchNamespaces': got string, want array",
  ],
  [
    "a namespace that is no DNS label",
    ["--set", "operator.watchNamespaces={Team_A}"],
    "at '/operator/watchNamespaces/0'",
  ],
  ["a numeric image tag", ["--set-json", "image.tag=1.0"], "at '/image/tag': got number, want string"],
  [
    "a port out of range",
    ["--set", "gateway.adminPort=70000"],
    "at '/gateway/adminPort': maximum: got 70,000, want 65,535",
  ],
  [
    "a Redis URL of another scheme",
    ["--set", "gateway.redisUrl=http://redis:6379"],
    "at '/gateway/redisUrl'",
  ],
  [
    "a Redis Secret without its key",
    ["--set", "gateway.redisUrlSecret.name=redis"],
    "at '/gateway/redisUrlSecret': properties 'key' required, if 'name' exists",
  ],
  [
    "a CPU request that is no quantity",
    ["--set", "gateway.resources.requests.cpu=lots"],
    "at '/gateway/resources/requests/cpu'",
  ],
  [
    "a disruption budget over 100%",
    ["--set", "gateway.podDisruptionBudget.maxUnavailable=150%"],
    "at '/gateway/podDisruptionBudget/maxUnavailable'",
  ],
  [
    "a label value that is no string",
    ["--set-json", "metrics.serviceMonitor.labels.release=1"],
    "at '/metrics/serviceMonitor/labels/release': got number, want string",
  ],
  [
    "a network peer of another kind",
    ["--set", "networkPolicy.gatewayFrom[0].podSelectr.app=x"],
    "at '/networkPolicy/gatewayFrom/0': additional properties 'podSelectr' not allowed",
  ],
  [
    "a scrape interval without a unit",
    ["--set", "metrics.serviceMonitor.interval=30"],
    "at '/metrics/serviceMonitor/interval'",
  ],
  // Rules across keys, checked by the templates.
  [
    "the admin port on the API port",
    ["--set", "gateway.adminPort=8080"],
    "gateway.port and gateway.adminPort must differ",
  ],
  [
    "more autoscaling minimum than maximum",
    ["--set", "gateway.autoscaling.minReplicas=5", "--set", "gateway.autoscaling.maxReplicas=3"],
    "gateway.autoscaling.minReplicas must not exceed gateway.autoscaling.maxReplicas",
  ],
];

describe("values.schema.json and the templates' checks", () => {
  it.each(BAD_VALUES)("refuse %s at helm template, naming the key", async (_what, values, message) => {
    const r = await helm("template", RELEASE, CHART, "--namespace", NAMESPACE, ...values);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it("refuse bad values at helm lint", async () => {
    const r = await helm("lint", CHART, "--set", "gateway.replica=3");
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain("additional properties 'replica' not allowed");
  });

  it("refuse bad values at helm install before anything reaches the API server", async () => {
    const r = await helm("install", RELEASE, CHART, "--namespace", NAMESPACE, "--set", "gateway.replicas=0");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("at '/gateway/replicas': minimum: got 0, want 1");
    const list = await helm("list", "--namespace", NAMESPACE, "--all", "--short");
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.trim()).toBe("");
    const left = await kubectl(
      "get",
      "deployments,services,serviceaccounts,secrets",
      "-n",
      NAMESPACE,
      "-o",
      "name",
    );
    expect(left.stdout.split("\n").filter((n) => n && !n.startsWith("serviceaccount/default"))).toEqual([]);
  });

  it("accept every value values.yaml documents, set at once", async () => {
    const objects = await render(
      "--set",
      "metrics.serviceMonitor.enabled=true",
      "--set",
      "metrics.prometheusRule.enabled=true",
      "--set",
      "metrics.grafanaDashboard.enabled=true",
      "--set",
      "serviceAccount.azureWorkloadIdentity=true",
      "--set",
      "gateway.autoscaling.enabled=true",
      "--set",
      "gateway.publicMetrics=true",
      "--set",
      "gateway.shutdownDelay=0s",
      "--set-json",
      'gateway.requestLimits={"maxBodySize":1048576,"maxJsonDepth":16,"maxJsonValues":1000,"headersTimeout":"5s","requestTimeout":"30s","keepAliveTimeout":"65s"}',
      "--set-json",
      'operator.watchNamespaces=["team-a"]',
      "--set",
      "gateway.redisUrlSecret.name=redis,gateway.redisUrlSecret.key=url",
      "--set-json",
      'global={"imageRegistry":"ignored"}',
    );
    expect(objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining(["ServiceMonitor", "PrometheusRule", "ConfigMap", "HorizontalPodAutoscaler"]),
    );
  });
});

/** The labels of a Deployment's pods. */
function podLabels(objects: readonly K8sObject[], component: string): Record<string, string> {
  const deployment = find(objects, "Deployment", `${RELEASE}-${component}`);
  return (deployment.spec!.template as { metadata: { labels: Record<string, string> } }).metadata.labels;
}

const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe("disruption budgets", () => {
  it("cover the gateway's and the operator's pods, one down at a time", async () => {
    const objects = await render();
    for (const component of ["gateway", "operator"]) {
      const pdb = find(objects, "PodDisruptionBudget", `${RELEASE}-${component}`);
      expect(pdb.spec!.maxUnavailable).toBe(1);
      const selector = (pdb.spec!.selector as { matchLabels: Record<string, string> }).matchLabels;
      expect(selects(selector, podLabels(objects, component))).toBe(true);
      const other = component === "gateway" ? "operator" : "gateway";
      expect(selects(selector, podLabels(objects, other))).toBe(false);
    }
  });

  it("take a percentage, and go when disabled", async () => {
    const objects = await render(
      "--set",
      "gateway.podDisruptionBudget.maxUnavailable=25%",
      "--set",
      "operator.podDisruptionBudget.enabled=false",
    );
    expect(find(objects, "PodDisruptionBudget", `${RELEASE}-gateway`).spec!.maxUnavailable).toBe("25%");
    expect(objects.filter((o) => o.kind === "PodDisruptionBudget")).toHaveLength(1);
  });
});

interface IngressRule {
  ports: Array<{ port: string }>;
  from?: Array<{ podSelector?: { matchLabels: Record<string, string> }; namespaceSelector?: unknown }>;
}

describe("network policies", () => {
  const rules = (objects: readonly K8sObject[], component: string) => {
    const policy = find(objects, "NetworkPolicy", `${RELEASE}-${component}`);
    const podSelector = (policy.spec!.podSelector as { matchLabels: Record<string, string> }).matchLabels;
    expect(selects(podSelector, podLabels(objects, component))).toBe(true);
    expect(policy.spec!.policyTypes).toEqual(["Ingress"]);
    return policy.spec!.ingress as IngressRule[];
  };

  it("open the gateway's API and admin ports and the operator's metrics port to anyone by default", async () => {
    const objects = await render();
    expect(rules(objects, "gateway")).toEqual([
      { ports: [{ port: "http" }] },
      { ports: [{ port: "admin" }] },
    ]);
    expect(rules(objects, "operator")).toEqual([{ ports: [{ port: "metrics" }] }]);
  });

  it("limit the API port to gatewayFrom, the metrics and admin ports to metricsFrom and the operator, and go when disabled", async () => {
    const callers = { namespaceSelector: { matchLabels: { "llm-access": "true" } } };
    const prometheus = {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
    };
    const objects = await render(
      "--set-json",
      `networkPolicy.gatewayFrom=[${JSON.stringify(callers)}]`,
      "--set-json",
      `networkPolicy.metricsFrom=[${JSON.stringify(prometheus)}]`,
    );
    const [api, admin] = rules(objects, "gateway");
    expect(api).toEqual({ ports: [{ port: "http" }], from: [callers] });
    // The admin port serves /metrics and /admin/state: Prometheus and the release's operator only.
    expect(admin!.ports).toEqual([{ port: "admin" }]);
    expect(admin!.from).toHaveLength(2);
    const operatorPeer = admin!.from![0]!.podSelector!.matchLabels;
    expect(selects(operatorPeer, podLabels(objects, "operator"))).toBe(true);
    expect(selects(operatorPeer, podLabels(objects, "gateway"))).toBe(false);
    expect(admin!.from![1]).toEqual(prometheus);
    expect(rules(objects, "operator")[0]).toEqual({ ports: [{ port: "metrics" }], from: [prometheus] });
    const off = await render("--set", "networkPolicy.enabled=false");
    expect(off.filter((o) => o.kind === "NetworkPolicy")).toEqual([]);
  });
});

describe("the ServiceMonitor", () => {
  it("scrapes /metrics on a named port of each Service it selects, which its pods expose", async () => {
    const objects = await render(
      "--set",
      "metrics.serviceMonitor.enabled=true",
      "--set",
      "metrics.serviceMonitor.labels.release=kube-prometheus-stack",
    );
    const monitor = find(objects, "ServiceMonitor", RELEASE);
    expect(monitor.metadata.labels).toMatchObject({ release: "kube-prometheus-stack" });
    const spec = monitor.spec as {
      selector: { matchLabels: Record<string, string> };
      namespaceSelector: { matchNames: string[] };
      endpoints: Array<{ port: string; path: string }>;
    };
    expect(spec.namespaceSelector.matchNames).toEqual([NAMESPACE]);
    const services = objects.filter(
      (o) => o.kind === "Service" && selects(spec.selector.matchLabels, o.metadata.labels ?? {}),
    );
    const scraped = spec.endpoints.map((endpoint) => {
      expect(endpoint.path).toBe("/metrics");
      const service = services.find((s) =>
        (s.spec!.ports as Array<{ name: string }>).some((p) => p.name === endpoint.port),
      );
      expect(service, `a selected Service with port ${endpoint.port}`).toBeDefined();
      return service!.metadata.name;
    });
    expect(scraped.sort()).toEqual([`${RELEASE}-gateway`, `${RELEASE}-operator`]);
    // The gateway's metrics are on its admin port, not next to the client API.
    expect(spec.endpoints.map((endpoint) => endpoint.port).sort()).toEqual(["admin", "metrics"]);
  });
});

const gatewayArgs = (objects: readonly K8sObject[]) =>
  (
    find(objects, "Deployment", `${RELEASE}-gateway`).spec!.template as {
      spec: { containers: Array<{ args: string[] }> };
    }
  ).spec.containers[0]!.args;

describe("gateway.shutdownDelay and gateway.requestLimits", () => {
  it("reach the gateway container's args, and leave the gateway's defaults alone when unset", async () => {
    const defaults = gatewayArgs(await render());
    expect(defaults).toContain("--shutdown-delay=5s");
    expect(
      defaults.filter((a) => /^--(max-|headers-timeout|request-timeout|keep-alive-timeout)/.test(a)),
    ).toEqual([]);
    const args = gatewayArgs(
      await render(
        "--set",
        "gateway.shutdownDelay=12s",
        "--set",
        "gateway.requestLimits.maxBodySize=16777216,gateway.requestLimits.maxJsonDepth=32",
        "--set",
        "gateway.requestLimits.maxJsonValues=50000,gateway.requestLimits.headersTimeout=5s",
        "--set",
        "gateway.requestLimits.requestTimeout=30s,gateway.requestLimits.keepAliveTimeout=65s",
      ),
    );
    expect(args).toEqual(
      expect.arrayContaining([
        "--shutdown-delay=12s",
        "--max-body-size=16777216",
        "--max-json-depth=32",
        "--max-json-values=50000",
        "--headers-timeout=5s",
        "--request-timeout=30s",
        "--keep-alive-timeout=65s",
      ]),
    );
    expect(args.filter((a) => a.startsWith("--shutdown-delay="))).toHaveLength(1);
  });
});

describe("gateway.publicMetrics", () => {
  it("serves /metrics on the API port only when set", async () => {
    expect(gatewayArgs(await render())).not.toContain("--public-metrics");
    expect(gatewayArgs(await render("--set", "gateway.publicMetrics=true"))).toContain("--public-metrics");
  });
});

describe("Azure Workload Identity", () => {
  it("labels the gateway's pods azure.workload.identity/use only when asked", async () => {
    const on = await render("--set", "serviceAccount.azureWorkloadIdentity=true");
    expect(podLabels(on, "gateway")["azure.workload.identity/use"]).toBe("true");
    expect(podLabels(on, "operator")).not.toHaveProperty("azure.workload.identity/use");
    expect(podLabels(await render(), "gateway")).not.toHaveProperty("azure.workload.identity/use");
  });
});
