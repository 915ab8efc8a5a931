/**
 * The Helm chart with the real tools: helm (built from helm.sh/helm/v3 by
 * test/controlplane/build.sh) lints and renders it, the real API server accepts every rendered
 * object (server-side dry run, strict field validation), the Deployments' args are flags the CLI
 * has, and the rendered RBAC, applied for real, lets the operator and the gateway do exactly what
 * they do (kubectl auth can-i): where the operator watches and no further, and without two
 * same-named releases in different namespaces sharing a cluster-scoped object.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ensureControlPlaneBinaries } from "../../support/control-plane.js";
import {
  CHART,
  find,
  helmRunner,
  mustRun,
  parseObjects,
  run,
  type K8sObject,
  type RunResult,
} from "./chart-kit.js";

const repoRoot = path.resolve(import.meta.dirname, "../../..");
const RELEASE = "sb";
const NAMESPACE = "switchboard-system";
const operatorSa = (namespace: string) => `system:serviceaccount:${namespace}:${RELEASE}-operator`;
const gatewaySa = (namespace: string) => `system:serviceaccount:${namespace}:${RELEASE}-gateway`;
const OPERATOR_SA = operatorSa(NAMESPACE);
const GATEWAY_SA = gatewaySa(NAMESPACE);
/** Objects outside the release namespace are named <release namespace>-<release>-<suffix>. */
const CROSS = `${NAMESPACE}-${RELEASE}`;
/** The namespaces the "watchNamespaces" value set names. */
const WATCHED = ["chart-watch-a", "chart-watch-b"];
const FIELD_MANAGER = "switchboard-chart-test";
const CLUSTER_SCOPED = new Set([
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "Namespace",
]);
const RBAC_KINDS = new Set(["ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"]);

const VALUE_SETS: Record<string, string[]> = {
  "default values": [],
  "watchNamespaces, redisUrl and autoscaling": [
    "--set",
    `operator.watchNamespaces={${WATCHED.join(",")}}`,
    "--set",
    "gateway.redisUrl=redis://redis.cache:6379",
    "--set",
    "gateway.autoscaling.enabled=true",
  ],
  redisUrlSecret: [
    "--set",
    "gateway.redisUrl=redis://ignored:6379",
    "--set",
    "gateway.redisUrlSecret.name=redis-credentials",
    "--set",
    "gateway.redisUrlSecret.key=url",
  ],
  // The ServiceMonitor and PrometheusRule need the Prometheus Operator's CRDs: monitoring.test.ts.
  "Azure Workload Identity, pull secrets, network peers and the dashboard": [
    "--set",
    "serviceAccount.azureWorkloadIdentity=true",
    "--set",
    "serviceAccount.gatewayAnnotations.azure\\.workload\\.identity/client-id=00000000-0000-0000-0000-000000000000",
    "--set",
    "imagePullSecrets[0].name=regcred",
    "--set-string",
    "networkPolicy.gatewayFrom[0].namespaceSelector.matchLabels.llm-access=true",
    "--set",
    "metrics.grafanaDashboard.enabled=true",
    "--set",
    "gateway.podDisruptionBudget.maxUnavailable=25%",
  ],
};

interface Container {
  name: string;
  args: string[];
  env?: Array<{ name: string; valueFrom?: unknown; value?: string }>;
}

let binDir: string;
let kubeconfigPath: string;
let helmHome: string;
const appliedRbac: string[] = [];
const rendered = new Map<string, { yaml: string; objects: K8sObject[] }>();

function helm(...args: string[]): Promise<RunResult> {
  return helmRunner(binDir, helmHome)(...args);
}

function kubectl(args: readonly string[], input = ""): Promise<string> {
  return mustRun(path.join(binDir, "kubectl"), args, input, { KUBECONFIG: kubeconfigPath });
}

function toYaml(objects: readonly K8sObject[]): string {
  // JSON is YAML; one document per object.
  return objects.map((o) => `---\n${JSON.stringify(o)}\n`).join("");
}

/** The chart's CRDs, one object per file of crds/, as helm install reads them. */
async function renderedCrds(chart: string): Promise<K8sObject[]> {
  const r = await helm("template", RELEASE, chart, "--namespace", NAMESPACE, "--include-crds");
  if (r.code !== 0) throw new Error(`helm template --include-crds failed:\n${r.stderr}`);
  return parseObjects(r.stdout).filter((o) => o.kind === "CustomResourceDefinition");
}

/** CustomResourceDefinition/<plural>.<group> for every crds/<group>_<plural>.yaml. */
async function crdFileNames(): Promise<string[]> {
  const files = (await readdir(path.join(repoRoot, "crds"))).filter((f) => f.endsWith(".yaml"));
  if (files.length === 0) throw new Error("crds/ is empty: run npm run crds");
  return files
    .map((f) => {
      const [group, plural] = f.replace(/\.yaml$/, "").split("_");
      return `CustomResourceDefinition/${plural}.${group}`;
    })
    .sort();
}

const kindAndName = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

const namespaceObject = (name: string): K8sObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name },
});

async function renderRelease(namespace: string, values: string[] = []): Promise<K8sObject[]> {
  const r = await helm("template", RELEASE, CHART, "--namespace", namespace, ...values);
  if (r.code !== 0) throw new Error(`helm template in ${namespace} failed:\n${r.stderr}`);
  return parseObjects(r.stdout);
}

/** Applies the RBAC objects server-side as `helm install` would create them; afterAll deletes them. */
async function applyRbac(objects: readonly K8sObject[]): Promise<void> {
  const yaml = toYaml(objects.filter((o) => RBAC_KINDS.has(o.kind)));
  appliedRbac.push(yaml);
  await kubectl(
    ["apply", "--server-side", "--force-conflicts", `--field-manager=${FIELD_MANAGER}`, "-f", "-"],
    yaml,
  );
}

async function getObject(kind: string, name: string): Promise<K8sObject> {
  return JSON.parse(await kubectl(["get", kind, name, "-o", "json"])) as K8sObject;
}

function containers(deployment: K8sObject): Container[] {
  const template = deployment.spec?.template as { spec: { containers: Container[] } };
  return template.spec.containers;
}

/** `kubectl auth can-i` as the given ServiceAccount user: true on "yes", false on "no". */
async function canI(user: string, args: string[]): Promise<boolean> {
  const r = await run(path.join(binDir, "kubectl"), ["auth", "can-i", ...args, `--as=${user}`], "", {
    KUBECONFIG: kubeconfigPath,
  });
  const answer = r.stdout.trim();
  if (answer === "yes" && r.code === 0) return true;
  if (answer === "no" && r.code === 1) return false;
  throw new Error(`kubectl auth can-i ${args.join(" ")} gave ${r.code}: ${r.stdout}${r.stderr}`);
}

beforeAll(async () => {
  binDir = await ensureControlPlaneBinaries();
  kubeconfigPath =
    (inject("switchboardKubeconfig") as string | undefined) ?? process.env.SWITCHBOARD_TEST_KUBECONFIG ?? "";
  if (!kubeconfigPath)
    throw new Error("run through the vitest integration project: its global setup starts the control plane");
  helmHome = await mkdtemp(path.join(tmpdir(), "switchboard-helm-"));

  for (const [label, values] of Object.entries(VALUE_SETS)) {
    const r = await helm("template", RELEASE, CHART, "--namespace", NAMESPACE, ...values);
    if (r.code !== 0) throw new Error(`helm template (${label}) failed:\n${r.stderr}`);
    rendered.set(label, { yaml: r.stdout, objects: parseObjects(r.stdout) });
  }

  // The CRDs as `helm install` sees them (through the chart's crds -> ../../crds symlink), and the namespace.
  const crds = toYaml(await renderedCrds(CHART));
  await kubectl(
    ["apply", "--server-side", "--force-conflicts", `--field-manager=${FIELD_MANAGER}`, "-f", "-"],
    crds,
  );
  await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", "-"], crds);
  await kubectl(
    ["apply", "--server-side", `--field-manager=${FIELD_MANAGER}`, "-f", "-"],
    toYaml([NAMESPACE, ...WATCHED].map(namespaceObject)),
  );
}, 600_000);

afterAll(async () => {
  for (const yaml of appliedRbac)
    await kubectl(["delete", "--ignore-not-found", "--wait=false", "-f", "-"], yaml);
  if (helmHome) await rm(helmHome, { recursive: true, force: true });
});

describe("helm lint", () => {
  for (const [label, values] of Object.entries(VALUE_SETS)) {
    it(`passes --strict with ${label}`, async () => {
      const r = await helm("lint", "--strict", CHART, "--namespace", NAMESPACE, ...values);
      expect(r.stdout + r.stderr).toContain("1 chart(s) linted, 0 chart(s) failed");
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
      expect(r.code).toBe(0);
    });
  }
});

describe("helm package", () => {
  it("carries every CRD of crds/ through the chart's symlink into the package helm install reads", async () => {
    const out = path.join(helmHome, "package");
    const pkg = await helm("package", CHART, "--destination", out);
    expect(pkg.code, pkg.stderr).toBe(0);
    const [tgz] = await readdir(out);
    const crds = await renderedCrds(path.join(out, tgz!));
    expect(crds.map(kindAndName).sort()).toEqual(await crdFileNames());
  });

  // `helm show crds` concatenates crds/ as is: each file must open its own YAML document.
  it("lists every CRD with `helm show crds`, one YAML document each", async () => {
    const crds = await helm("show", "crds", CHART);
    expect(crds.code, crds.stderr).toBe(0);
    expect(parseObjects(crds.stdout).map(kindAndName).sort()).toEqual(await crdFileNames());
  });
});

describe.each(Object.keys(VALUE_SETS))("helm template with %s", (label) => {
  const objects = () => rendered.get(label)!.objects;

  it("renders the operator, the gateway and their RBAC, each namespaced object in the release namespace", () => {
    const scoped = label === "watchNamespaces, redisUrl and autoscaling";
    // Cluster-wide reads without a namespace list; otherwise a Role in each watched namespace.
    const watchRbac = scoped
      ? WATCHED.flatMap((ns) => [`Role/${ns}/${CROSS}-operator`, `RoleBinding/${ns}/${CROSS}-operator`])
      : [`ClusterRole/${CROSS}-operator`, `ClusterRoleBinding/${CROSS}-operator`];
    const rbac = objects()
      .filter((o) => RBAC_KINDS.has(o.kind))
      .map((o) => [o.kind, o.metadata.namespace, o.metadata.name].filter(Boolean).join("/"))
      .sort();
    expect(rbac).toEqual(
      [
        ...watchRbac,
        `ServiceAccount/${NAMESPACE}/${RELEASE}-operator`,
        `ServiceAccount/${NAMESPACE}/${RELEASE}-gateway`,
        `Role/${NAMESPACE}/${RELEASE}-operator`,
        `RoleBinding/${NAMESPACE}/${RELEASE}-operator`,
        `Role/${NAMESPACE}/${RELEASE}-gateway`,
        `RoleBinding/${NAMESPACE}/${RELEASE}-gateway`,
        `ClusterRoleBinding/${CROSS}-gateway-auth-delegator`,
      ].sort(),
    );
    expect(objects().map(kindAndName)).toEqual(
      expect.arrayContaining([
        `Deployment/${RELEASE}-operator`,
        `Deployment/${RELEASE}-gateway`,
        `Service/${RELEASE}-gateway`,
      ]),
    );
    // `helm template | kubectl apply -f -` must not scatter objects into the current context's namespace.
    for (const o of objects()) {
      if (CLUSTER_SCOPED.has(o.kind)) continue;
      const home = o.metadata.name === `${CROSS}-operator` ? WATCHED : [NAMESPACE];
      expect(home, `${o.kind}/${o.metadata.name}`).toContain(o.metadata.namespace);
    }
  });

  it("is accepted by the API server (kubectl apply --dry-run=server, strict field validation)", async () => {
    const out = await kubectl(
      ["apply", "--dry-run=server", "--validate=strict", "-f", "-"],
      rendered.get(label)!.yaml,
    );
    const accepted = out.split("\n").filter((line) => line.endsWith("(server dry run)"));
    expect(accepted).toHaveLength(objects().length);
  });

  it("passes the gateway and operator only flags the CLI has", async () => {
    for (const command of ["gateway", "operator"]) {
      const [container] = containers(find(objects(), "Deployment", `${RELEASE}-${command}`));
      const [subcommand, ...flags] = container!.args;
      expect(subcommand).toBe(command);
      const help = await cliHelp(command);
      for (const arg of flags) {
        const flag = /^(--[a-z0-9-]+)(=.*)?$/.exec(arg)?.[1];
        expect(flag, `${command} arg ${arg}`).toBeDefined();
        expect(help, `${command} --help lists ${flag}`).toMatch(
          new RegExp(`(^|[\\s,])${flag}(?=[\\s=<[]|$)`, "m"),
        );
      }
    }
  });

  if (label === "default values") {
    it("has the operator watch every namespace and the gateway keep state per replica", () => {
      const operatorArgs = containers(find(objects(), "Deployment", `${RELEASE}-operator`))[0]!.args;
      expect(operatorArgs).toContain("--all-namespaces");
      expect(operatorArgs.some((a) => a.startsWith("--namespaces"))).toBe(false);
      const gateway = find(objects(), "Deployment", `${RELEASE}-gateway`);
      expect(containers(gateway)[0]!.args.some((a) => a.startsWith("--redis-url"))).toBe(false);
      expect(gateway.spec?.replicas).toBe(2);
      expect(objects().some((o) => o.kind === "HorizontalPodAutoscaler")).toBe(false);
    });
  } else if (label === "redisUrlSecret") {
    it("passes a Redis URL kept in a Secret by env, never as an argument", () => {
      const container = containers(find(objects(), "Deployment", `${RELEASE}-gateway`))[0]!;
      expect(container.args.some((a) => a.startsWith("--redis-url"))).toBe(false);
      expect(container.env).toEqual([
        {
          name: "SWITCHBOARD_REDIS_URL",
          valueFrom: { secretKeyRef: { name: "redis-credentials", key: "url" } },
        },
      ]);
    });
  } else if (label === "watchNamespaces, redisUrl and autoscaling") {
    it("has the operator watch the listed namespaces, the gateway use Redis, and the HPA own the gateway's replica count", () => {
      const operatorArgs = containers(find(objects(), "Deployment", `${RELEASE}-operator`))[0]!.args;
      expect(operatorArgs).toContain(`--namespaces=${WATCHED.join(",")}`);
      expect(operatorArgs).not.toContain("--all-namespaces");
      const gateway = find(objects(), "Deployment", `${RELEASE}-gateway`);
      expect(containers(gateway)[0]!.args).toContain("--redis-url=redis://redis.cache:6379");
      expect(gateway.spec).not.toHaveProperty("replicas");
      const hpa = find(objects(), "HorizontalPodAutoscaler", `${RELEASE}-gateway`);
      expect(hpa.spec).toMatchObject({
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: `${RELEASE}-gateway` },
        minReplicas: 2,
        maxReplicas: 10,
      });
    });
  }
});

const helpCache = new Map<string, Promise<string>>();
function cliHelp(command: string): Promise<string> {
  let help = helpCache.get(command);
  if (!help) {
    help = mustRun(process.execPath, ["--import", "tsx", "src/cli.ts", command, "--help"]);
    helpCache.set(command, help);
  }
  return help;
}

describe("the rendered RBAC, applied", () => {
  beforeAll(async () => {
    await applyRbac(rendered.get("default values")!.objects);
  });

  const ns = ["-n", NAMESPACE];
  const elsewhere = ["-n", "team-a"];

  const operatorMay = [
    // Informers over the Switchboard resources and the Secrets they reference, in every namespace.
    ["list", "llmproviders.llm.switchboard.dev", "--all-namespaces"],
    ["watch", "llmproviders.llm.switchboard.dev", "--all-namespaces"],
    ["list", "llmroutes.llm.switchboard.dev", "--all-namespaces"],
    ["watch", "embeddingmigrations.llm.switchboard.dev", "--all-namespaces"],
    ["list", "secrets", "--all-namespaces"],
    ["watch", "secrets", "--all-namespaces"],
    // Status write-back and Events next to the resources.
    ["patch", "llmproviders.llm.switchboard.dev", "--subresource=status", ...elsewhere],
    ["patch", "llmroutes.llm.switchboard.dev", "--subresource=status", ...elsewhere],
    ["patch", "embeddingmigrations.llm.switchboard.dev", "--subresource=status", ...elsewhere],
    ["create", "events", ...elsewhere],
    // The snapshot Secrets (head and parts), the Lease and the gateway's EndpointSlices, at home.
    ["create", "secrets", ...ns],
    ["update", "secrets", ...ns],
    ["patch", "secrets", ...ns],
    ["delete", "secrets", ...ns],
    ["get", "leases.coordination.k8s.io", ...ns],
    ["create", "leases.coordination.k8s.io", ...ns],
    ["update", "leases.coordination.k8s.io", ...ns],
    ["list", "endpointslices.discovery.k8s.io", ...ns],
  ];
  const operatorMayNot = [
    ["create", "secrets", ...elsewhere],
    ["delete", "secrets", ...elsewhere],
    ["update", "leases.coordination.k8s.io", ...elsewhere],
    ["update", "llmproviders.llm.switchboard.dev", ...elsewhere],
    ["delete", "llmroutes.llm.switchboard.dev", ...elsewhere],
    ["create", "pods", ...ns],
  ];
  const gatewayMay = [
    ["get", `secrets/${RELEASE}-config`, ...ns],
    ["list", "secrets", ...ns],
    ["watch", `secrets/${RELEASE}-config`, ...ns],
    // Verifying consumers' ServiceAccount tokens (system:auth-delegator).
    ["create", "tokenreviews.authentication.k8s.io"],
  ];
  const gatewayMayNot = [
    ["get", "secrets", ...elsewhere],
    ["update", `secrets/${RELEASE}-config`, ...ns],
    ["list", "llmproviders.llm.switchboard.dev", "--all-namespaces"],
    ["create", "pods", ...ns],
  ];

  const cases: Array<[string, string, string[][], boolean]> = [
    ["the operator", OPERATOR_SA, operatorMay, true],
    ["the operator", OPERATOR_SA, operatorMayNot, false],
    ["the gateway", GATEWAY_SA, gatewayMay, true],
    ["the gateway", GATEWAY_SA, gatewayMayNot, false],
  ];
  for (const [who, user, checks, allowed] of cases) {
    for (const args of checks) {
      it(`${allowed ? "lets" : "does not let"} ${who} ${args.join(" ")}`, async () => {
        expect(await canI(user, args)).toBe(allowed);
      });
    }
  }
});

describe("two releases of the same name in different namespaces", () => {
  const twins = ["chart-twin-1", "chart-twin-2"];
  const renders: K8sObject[][] = [];
  const clusterNames = (objects: readonly K8sObject[]) =>
    objects.filter((o) => CLUSTER_SCOPED.has(o.kind)).map(kindAndName);

  beforeAll(async () => {
    await kubectl(
      ["apply", "--server-side", `--field-manager=${FIELD_MANAGER}`, "-f", "-"],
      toYaml(twins.map(namespaceObject)),
    );
    // One after the other, as two `helm install sb` would: the second must not take over the first's objects.
    for (const namespace of twins) {
      const objects = await renderRelease(namespace);
      renders.push(objects);
      await applyRbac(objects);
    }
  });

  it("render cluster-scoped objects with distinct names, each carrying its namespace", () => {
    const [first, second] = renders.map(clusterNames);
    expect(first).toHaveLength(3);
    expect(first!.filter((name) => second!.includes(name))).toEqual([]);
    for (const [i, namespace] of twins.entries()) {
      for (const name of clusterNames(renders[i]!)) expect(name).toContain(`/${namespace}-${RELEASE}-`);
    }
  });

  it("keep each ClusterRoleBinding bound to its own release's ServiceAccounts on the API server", async () => {
    for (const namespace of twins) {
      const operator = await getObject("clusterrolebinding", `${namespace}-${RELEASE}-operator`);
      expect(operator.roleRef).toMatchObject({
        kind: "ClusterRole",
        name: `${namespace}-${RELEASE}-operator`,
      });
      expect(operator.subjects).toEqual([{ kind: "ServiceAccount", name: `${RELEASE}-operator`, namespace }]);
      const auth = await getObject("clusterrolebinding", `${namespace}-${RELEASE}-gateway-auth-delegator`);
      expect(auth.subjects).toEqual([{ kind: "ServiceAccount", name: `${RELEASE}-gateway`, namespace }]);
    }
  });

  it("leave both operators their cluster-wide reads and both gateways TokenReview", async () => {
    for (const namespace of twins) {
      expect(await canI(operatorSa(namespace), ["list", "secrets", "--all-namespaces"])).toBe(true);
      expect(
        await canI(operatorSa(namespace), ["watch", "llmroutes.llm.switchboard.dev", "--all-namespaces"]),
      ).toBe(true);
      expect(await canI(gatewaySa(namespace), ["create", "tokenreviews.authentication.k8s.io"])).toBe(true);
    }
  });

  it("keep names within 63 characters and apart when the namespaces are long", async () => {
    const long = ["a", "b"].map((end) => `${"platform-team-".repeat(3)}switchboard-${end}`);
    const names = await Promise.all(
      long.map(async (namespace) =>
        (await renderRelease(namespace, ["--set", `operator.watchNamespaces={${WATCHED[0]}}`]))
          .filter((o) => CLUSTER_SCOPED.has(o.kind) || o.metadata.namespace !== namespace)
          .map((o) => o.metadata.name),
      ),
    );
    for (const name of names.flat()) expect(name.length, name).toBeLessThanOrEqual(63);
    expect(names[0]!.filter((name) => names[1]!.includes(name))).toEqual([]);
  });
});

describe("the rendered RBAC with watchNamespaces, applied", () => {
  const release = "chart-scoped";
  const [watched, unwatched] = WATCHED as [string, string];
  const user = operatorSa(release);
  let objects: K8sObject[] = [];

  beforeAll(async () => {
    await kubectl(
      ["apply", "--server-side", `--field-manager=${FIELD_MANAGER}`, "-f", "-"],
      toYaml([namespaceObject(release)]),
    );
    objects = await renderRelease(release, ["--set", `operator.watchNamespaces={${watched}}`]);
    await applyRbac(objects);
  });

  it("grants the operator nothing cluster-wide: the only cluster-scoped object is the gateway's TokenReview binding", () => {
    expect(objects.filter((o) => CLUSTER_SCOPED.has(o.kind)).map(kindAndName)).toEqual([
      `ClusterRoleBinding/${release}-${RELEASE}-gateway-auth-delegator`,
    ]);
  });

  const watchedNs = ["-n", watched];
  const home = ["-n", release];
  const may = [
    // Informers over the Switchboard resources and the Secrets they reference, in the watched namespace.
    ["get", "secrets", ...watchedNs],
    ["list", "secrets", ...watchedNs],
    ["watch", "secrets", ...watchedNs],
    ["list", "llmproviders.llm.switchboard.dev", ...watchedNs],
    ["watch", "llmroutes.llm.switchboard.dev", ...watchedNs],
    ["list", "embeddingmigrations.llm.switchboard.dev", ...watchedNs],
    ["patch", "llmproviders.llm.switchboard.dev", "--subresource=status", ...watchedNs],
    ["patch", "llmroutes.llm.switchboard.dev", "--subresource=status", ...watchedNs],
    ["create", "events", ...watchedNs],
    // The snapshot Secrets (read back at start, listed to prune parts), the Lease, the EndpointSlices.
    ["get", "secrets", ...home],
    ["list", "secrets", ...home],
    ["create", "secrets", ...home],
    ["update", "secrets", ...home],
    ["delete", "secrets", ...home],
    ["update", "leases.coordination.k8s.io", ...home],
    ["list", "endpointslices.discovery.k8s.io", ...home],
  ];
  const mayNot = [
    ["get", "secrets", "-n", unwatched],
    ["list", "secrets", "-n", unwatched],
    ["list", "secrets", "--all-namespaces"],
    ["get", "secrets", "-n", "default"],
    ["list", "llmproviders.llm.switchboard.dev", "-n", unwatched],
    ["list", "llmproviders.llm.switchboard.dev", "--all-namespaces"],
    ["patch", "llmroutes.llm.switchboard.dev", "--subresource=status", "-n", unwatched],
    ["create", "events", "-n", unwatched],
    ["create", "secrets", ...watchedNs],
  ];
  for (const [checks, allowed] of [
    [may, true],
    [mayNot, false],
  ] as const) {
    for (const args of checks) {
      it(`${allowed ? "lets" : "does not let"} the operator ${args.join(" ")}`, async () => {
        expect(await canI(user, args)).toBe(allowed);
      });
    }
  }

  it("still lets the gateway create TokenReviews", async () => {
    expect(await canI(gatewaySa(release), ["create", "tokenreviews.authentication.k8s.io"])).toBe(true);
  });
});
