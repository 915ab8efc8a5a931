/**
 * What Argo CD sees of the samples (config/samples/**) on a real API server: applied the two ways
 * Argo CD applies (kubectl's client-side apply, its default, and server-side apply, the
 * ServerSideApply=true sync option), every Switchboard resource reads back with exactly the spec,
 * labels and annotations of its manifest, so nothing the API server adds (a default, a
 * normalised number or quantity) can leave it OutOfSync. Then the operator reconciles them and the
 * chart's Lua health checks read the status it really writes.
 */
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { listManifestFiles } from "../../../src/shared/manifests.js";
import { GROUP_VERSION } from "../../../src/shared/schemas/common.js";
import { argoHealth } from "../../support/argocd-health.js";
import {
  kubectl,
  prepareCluster,
  RELEASE_NAMESPACE,
  secretManifest,
  applyObject,
  startTestOperator,
  uniqueName,
  waitFor,
  REPO_ROOT,
  type CustomResource,
  type KubeClients,
  type TestOperator,
} from "../operator/operator-kit.js";

const SAMPLES = path.join(REPO_ROOT, "config/samples");
const DIRS = readdirSync(SAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const MODES = {
  "client-side apply": ["apply", "-f", "-"],
  "server-side apply": ["apply", "--server-side", "--field-manager=argocd-controller", "-f", "-"],
} as const;
type Mode = keyof typeof MODES;

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: object; annotations?: object };
  spec?: unknown;
}

const namespaceOf = (mode: Mode, dir: string) =>
  `gitops-${mode === "client-side apply" ? "csa" : "ssa"}-${dir}`.slice(0, 63);

/** The manifests of one sample directory, moved into `namespace` as Argo CD's destination does. */
async function sampleManifests(dir: string, namespace: string): Promise<Manifest[]> {
  const objects: Manifest[] = [];
  for (const file of await listManifestFiles(path.join(SAMPLES, dir))) {
    for (const doc of parseAllDocuments(await readFile(file, "utf8"))) {
      const object = doc.toJS() as Manifest | null;
      if (object) objects.push({ ...object, metadata: { ...object.metadata, namespace } });
    }
  }
  return objects;
}

const plural = (kind: string) => `${kind.toLowerCase()}s.llm.switchboard.dev`;
const healthKind = (kind: string) => kind.toLowerCase() as "llmprovider" | "llmroute";

let admin: KubeClients;
let operator: TestOperator | undefined;
const namespaces = DIRS.flatMap((dir) =>
  (Object.keys(MODES) as Mode[]).map((mode) => namespaceOf(mode, dir)),
);

beforeAll(async () => {
  ({ admin } = await prepareCluster(namespaces));
}, 600_000);

afterAll(async () => {
  await operator?.close();
  for (const namespace of namespaces)
    await admin?.core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe.each(Object.keys(MODES) as Mode[])("the samples, applied with %s", (mode) => {
  it.each(DIRS)(
    "%s: read back with the manifest's spec, labels and annotations, nothing added",
    async (dir) => {
      const namespace = namespaceOf(mode, dir);
      const manifests = await sampleManifests(dir, namespace);
      await kubectl(admin, MODES[mode], manifests.map((m) => `---\n${JSON.stringify(m)}\n`).join(""));
      const ours = manifests.filter((m) => m.apiVersion === GROUP_VERSION);
      expect(ours.length).toBeGreaterThan(0);
      for (const manifest of ours) {
        const live = JSON.parse(
          await kubectl(admin, [
            "get",
            plural(manifest.kind),
            manifest.metadata.name,
            "-n",
            namespace,
            "-o",
            "json",
          ]),
        ) as Manifest & { metadata: { annotations?: Record<string, string> } };
        const what = `${manifest.kind}/${manifest.metadata.name}`;
        expect(live.spec, what).toEqual(manifest.spec);
        expect(live.metadata.labels, what).toEqual(manifest.metadata.labels);
        // Client-side apply records what it applied; Argo CD leaves that annotation out of its diff.
        const { "kubectl.kubernetes.io/last-applied-configuration": _lastApplied, ...annotations } =
          live.metadata.annotations ?? {};
        expect(Object.keys(annotations).length ? annotations : undefined, what).toEqual(
          manifest.metadata.annotations,
        );
      }
    },
  );
});

describe("the chart's Argo CD health checks on the status the operator writes", () => {
  const watched = DIRS.map((dir) => namespaceOf("server-side apply", dir));
  const live = async (namespace: string, kind: string): Promise<CustomResource[]> =>
    (
      JSON.parse(await kubectl(admin, ["get", plural(kind), "-n", namespace, "-o", "json"])) as {
        items: CustomResource[];
      }
    ).items;

  beforeAll(async () => {
    operator = await startTestOperator(process.env.SWITCHBOARD_TEST_OPERATOR_KUBECONFIG!, {
      namespace: watched,
      snapshot: { namespace: RELEASE_NAMESPACE, name: uniqueName("gitops-config") },
      lease: {
        name: uniqueName("gitops-lease"),
        leaseDurationMs: 4000,
        renewDeadlineMs: 3000,
        retryPeriodMs: 500,
      },
    });
  }, 120_000);

  it("report every sample Healthy once the operator has made it Ready", async () => {
    for (const namespace of watched) {
      for (const kind of ["LLMProvider", "LLMRoute"]) {
        const health = await waitFor(async () => {
          const items = await live(namespace, kind);
          const results = await Promise.all(
            items.map(async (o) => [o.metadata!.name, await argoHealth(healthKind(kind), o)] as const),
          );
          return results.every(([, h]) => h.status === "Healthy") ? results : undefined;
        }, 30_000).catch(async () => {
          const items = await live(namespace, kind);
          return Promise.all(
            items.map(async (o) => [o.metadata!.name, await argoHealth(healthKind(kind), o)] as const),
          );
        });
        expect(health.length, `${kind} in ${namespace}`).toBeGreaterThan(0);
        for (const [name, h] of health)
          expect(h, `${kind} ${namespace}/${name}`).toMatchObject({ status: "Healthy" });
      }
    }
  });

  it("report a provider whose Secret is gone Degraded, naming the reason, and Healthy again once it is back", async () => {
    const namespace = namespaceOf("server-side apply", "openai");
    const provider = async () =>
      (await live(namespace, "LLMProvider")).find((p) => p.metadata!.name === "openai")!;
    await kubectl(admin, ["delete", "secret", "openai-credentials", "-n", namespace]);
    const degraded = await waitFor(async () => {
      const h = await argoHealth("llmprovider", await provider());
      return h.status === "Degraded" ? h : undefined;
    }, 30_000);
    expect(degraded.message).toMatch(/^SecretNotFound: .*openai-credentials/);
    await applyObject(
      admin,
      secretManifest(namespace, "openai-credentials", { apiKey: "replace-with-your-openai-key" }),
    );
    await waitFor(
      async () => (await argoHealth("llmprovider", await provider())).status === "Healthy",
      30_000,
    );
  });
});
