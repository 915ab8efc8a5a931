/**
 * The chart's alerts (charts/switchboard/monitoring/alerts.yaml) and Grafana dashboard
 * (monitoring/dashboard.json): promtool (built from the pinned Prometheus module) checks the rules
 * and runs their unit tests (alerts.promtool.yaml); every dashboard query is valid PromQL; every
 * metric and label they use is one a real gateway exports at /metrics (on its admin port, which
 * the ServiceMonitor scrapes) once it has served traffic
 * (routed, retried, failed over, streamed, embedded, limited, billed against a budget); and the
 * chart ships both files unchanged.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { REPO_ROOT, runCli, waitForHttp, type CliProcess } from "../../support/cli-process.js";
import { ensureControlPlaneBinaries } from "../../support/control-plane.js";
import { freePort } from "../../support/free-port.js";
import { ensurePromtool } from "../../support/promtool.js";

const MONITORING = path.join(REPO_ROOT, "charts/switchboard/monitoring");
const ALERTS = path.join(MONITORING, "alerts.yaml");
const DASHBOARD = path.join(MONITORING, "dashboard.json");
const ALERT_TESTS = path.join(import.meta.dirname, "alerts.promtool.yaml");

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; for?: string }> }>;
}
interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
}

const alerts = parseYaml(readFileSync(ALERTS, "utf8")) as RuleFile;
const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[] };
const alertExprs = alerts.groups.flatMap((g) => g.rules.map((r) => ({ where: r.alert, expr: r.expr })));
const dashboardExprs = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr })),
);

/** Grafana's variables, replaced as Grafana would before sending a query. */
function grafanaToPromql(expr: string): string {
  return expr.replaceAll("$__rate_interval", "2m").replaceAll("$namespace", ".*");
}

/** Labels Prometheus adds to every series it scrapes from a pod (kubernetes_sd, ServiceMonitor). */
const TARGET_LABELS = new Set(["namespace", "pod", "job", "instance", "service", "endpoint", "container"]);

/**
 * The metric selectors of a PromQL expression: each metric name with the labels its matchers
 * test, plus the labels it groups by. Strings, durations and function calls are not names.
 */
function promqlNames(expr: string): { metrics: Map<string, Set<string>>; grouping: Set<string> } {
  const grouping = new Set<string>();
  let rest = expr.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
    (_, _kw, list) => {
      for (const label of (list as string).split(",")) if (label.trim()) grouping.add(label.trim());
      return " ";
    },
  );
  rest = rest.replace(/\[[^\]]*\]/g, " ");
  const metrics = new Map<string, Set<string>>();
  const keywords = new Set(["and", "or", "unless", "bool", "offset"]);
  for (const m of rest.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{([^}]*)\})?(\s*\()?/g)) {
    const [, name, , matchers, call] = m;
    if (call || keywords.has(name!)) continue;
    const labels = metrics.get(name!) ?? new Set<string>();
    for (const l of (matchers ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)) labels.add(l[1]!);
    metrics.set(name!, labels);
  }
  return { metrics, grouping };
}

async function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
  const [code] = (await once(child, "close")) as [number | null];
  return { code, output };
}

let promtool: string;
let tmp: string;

beforeAll(async () => {
  promtool = await ensurePromtool();
  tmp = await mkdtemp(path.join(tmpdir(), "switchboard-monitoring-"));
}, 900_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("promtool", () => {
  it("passes `promtool check rules` on the alerts, with every rule found", async () => {
    const r = await run(promtool, ["check", "rules", ALERTS]);
    expect(r.output).toContain(`SUCCESS: ${alertExprs.length} rules found`);
    expect(r.code).toBe(0);
  });

  it("fires each alert when it should and not on its look-alike (`promtool test rules`)", async () => {
    const r = await run(promtool, ["test", "rules", ALERT_TESTS]);
    expect(r.output).toContain("SUCCESS");
    expect(r.code, r.output).toBe(0);
  });

  it("accepts every dashboard query as PromQL", async () => {
    expect(dashboardExprs.length).toBeGreaterThan(10);
    const file = path.join(tmp, "dashboard-queries.yaml");
    const rules = dashboardExprs.map((q, i) => ({
      record: `dashboard:query_${i}`,
      expr: grafanaToPromql(q.expr),
    }));
    await writeFile(file, JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
    const r = await run(promtool, ["check", "rules", file]);
    expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(r.code).toBe(0);
  });
});

describe("the metrics the alerts and dashboard use", () => {
  let cli: CliProcess;
  /** Each metric name a real gateway exported, with the labels of its samples. */
  const exported = new Map<string, Set<string>>();

  beforeAll(async () => {
    const dir = path.join(tmp, "manifests");
    const [port, adminPort, demoPort, deadPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    await mkdir(dir);
    await writeFile(path.join(dir, "traffic.yaml"), trafficManifests(demoPort, deadPort));
    cli = runCli([
      "gateway",
      "--manifests",
      dir,
      "--port",
      String(port),
      "--admin-port",
      String(adminPort),
      "--demo-upstream",
      String(demoPort),
    ]);
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/readyz`, 90_000);
    const headers = { "content-type": "application/json", authorization: "Bearer sk-test-search" };
    const chat = (body: object) =>
      fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hello" }], ...body }),
      });
    // The dead target fails (and is retried), its circuit opens, the request fails over.
    expect((await chat({})).status).toBe(200);
    // Its circuit is open now: skipped without a call.
    expect((await chat({})).status).toBe(200);
    const stream = await chat({ stream: true, stream_options: { include_usage: true } });
    expect(stream.status).toBe(200);
    await stream.text();
    const embed = await fetch(`${base}/v1/embeddings`, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: "embed", input: ["a", "b"] }),
    });
    expect(embed.status).toBe(200);
    // The consumer's 4 requests per minute are used up: the gateway's own limit refuses.
    expect((await chat({})).status).toBe(200);
    expect((await chat({})).status).toBe(429);

    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    for (const line of text.split("\n")) {
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? /.exec(line);
      if (!sample) continue;
      const labels = exported.get(sample[1]!) ?? new Set<string>();
      for (const l of (sample[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g))
        labels.add(l[1]!);
      exported.set(sample[1]!, labels);
    }
  }, 180_000);

  afterAll(async () => {
    await cli?.stop();
  });

  it("finds the selectors of a PromQL expression, not its functions, strings or groupings", () => {
    const { metrics, grouping } = promqlNames(
      'histogram_quantile(0.95, sum by (le, x) (rate(a_bucket{namespace=~"$ns", outcome!~"ok|b"}[5m]))) / on (x) b or c',
    );
    expect([...metrics.keys()]).toEqual(["a_bucket", "b", "c"]);
    expect([...metrics.get("a_bucket")!]).toEqual(["namespace", "outcome"]);
    expect([...grouping]).toEqual(["le", "x"]);
  });

  for (const [source, exprs] of [
    ["alert", alertExprs],
    ["dashboard panel", dashboardExprs],
  ] as const) {
    it(`uses only metrics and labels the gateway exports in every ${source}`, () => {
      const problems: string[] = [];
      for (const { where, expr } of exprs) {
        const { metrics, grouping } = promqlNames(expr);
        expect(metrics.size, `${where}: ${expr}`).toBeGreaterThan(0);
        const known = new Set(TARGET_LABELS);
        for (const [name, labels] of metrics) {
          const has = exported.get(name);
          if (!has) {
            problems.push(`${where}: ${name} is not exported`);
            continue;
          }
          for (const label of has) known.add(label);
          for (const label of labels) {
            if (!has.has(label) && !TARGET_LABELS.has(label))
              problems.push(`${where}: ${name} has no label ${label}`);
          }
        }
        for (const label of grouping) {
          if (!known.has(label)) problems.push(`${where}: groups by ${label}, which none of its metrics has`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});

describe("the chart", () => {
  it("ships the alerts as a PrometheusRule and the dashboard as a ConfigMap, unchanged", async () => {
    const helm = path.join(await ensureControlPlaneBinaries(), "helm");
    const r = await run(helm, [
      "template",
      "sb",
      path.join(REPO_ROOT, "charts/switchboard"),
      "--namespace",
      "llm",
      "--set",
      "metrics.prometheusRule.enabled=true",
      "--set",
      "metrics.grafanaDashboard.enabled=true",
    ]);
    expect(r.code, r.output).toBe(0);
    const objects = parseAllDocuments(r.output.slice(r.output.indexOf("---")))
      .map(
        (d) =>
          d.toJS() as {
            kind: string;
            metadata: { labels?: Record<string, string> };
            spec?: unknown;
            data?: Record<string, string>;
          } | null,
      )
      .filter((o) => o !== null);
    const rule = objects.find((o) => o.kind === "PrometheusRule");
    expect(rule?.spec).toEqual(alerts);
    const dashboardMap = objects.find((o) => o.kind === "ConfigMap");
    expect(dashboardMap?.metadata.labels).toMatchObject({ grafana_dashboard: "1" });
    expect(dashboardMap?.data?.["switchboard.json"]).toBe(readFileSync(DASHBOARD, "utf8"));
  });
});

/**
 * A route whose first target is dead (retried, then its circuit opens) and whose second is the
 * demo upstream, priced so requests cost something; one consumer with a request limit and a budget.
 */
function trafficManifests(demoPort: number, deadPort: number): string {
  return `
apiVersion: v1
kind: Secret
metadata: { name: consumer-keys, namespace: ai }
stringData: { search: sk-test-search }
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMProvider
metadata: { name: demo, namespace: ai }
spec:
  type: openai-compatible
  endpoint: http://127.0.0.1:${demoPort}/v1
  credentials: { none: {} }
  dataResidency: { boundary: on-premises }
  models:
    - { name: demo-chat, maxOutputTokens: 256, pricing: { inputPer1M: 1000, outputPer1M: 2000 } }
    - { name: demo-embed, kind: embedding, dimensions: 256, pricing: { inputPer1M: 100, outputPer1M: 0 } }
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMProvider
metadata: { name: dead, namespace: ai }
spec:
  type: openai-compatible
  endpoint: http://127.0.0.1:${deadPort}/v1
  credentials: { none: {} }
  dataResidency: { boundary: on-premises }
  healthCheck: { probe: none }
  circuitBreaker: { failureThreshold: 2, openSeconds: 600 }
  models: [{ name: demo-chat, maxOutputTokens: 256, pricing: { inputPer1M: 1000, outputPer1M: 2000 } }]
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMRoute
metadata: { name: chat, namespace: ai }
spec:
  model: chat
  targets: [{ provider: dead, model: demo-chat }, { provider: demo, model: demo-chat }]
  retries: { attempts: 1, backoff: 1ms }
  consumers:
    - name: search
      apiKeySecretRef: { name: consumer-keys, key: search }
      limits: { requestsPerMinute: 4 }
      budget: { usd: 100, period: day }
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMRoute
metadata: { name: embed, namespace: ai }
spec:
  model: embed
  targets: [{ provider: demo, model: demo-embed }]
`;
}
