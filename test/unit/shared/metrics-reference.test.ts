import { readFileSync } from "node:fs";
import type { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { GatewayMetrics } from "../../../src/gateway/metrics.js";
import { OperatorMetrics } from "../../../src/operator/operator-metrics.js";

interface Family {
  type: string;
  labels: string[];
}

/** The rows of the table under `## <section>` in docs/metrics.md. */
function documented(section: string): Map<string, Family> {
  const doc = readFileSync(new URL("../../../docs/metrics.md", import.meta.url), "utf8");
  const body = doc.split(`\n## ${section}\n`)[1]!.split("\n## ")[0]!;
  const families = new Map<string, Family>();
  for (const line of body.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    const name = /^`([a-z_:]+)`$/.exec(cells[1] ?? "")?.[1];
    if (!name) continue;
    const labels = [...(cells[3] ?? "").matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
    families.set(name, { type: cells[2]!, labels: labels.sort() });
  }
  return families;
}

/** What /metrics exports, less prom-client's process metrics. */
async function exported(registry: Registry): Promise<Map<string, Family>> {
  const families = new Map<string, Family>();
  const json = await registry.getMetricsAsJSON();
  for (const metric of registry.getMetricsAsArray()) {
    const name = (metric as unknown as { name: string }).name;
    if (/^(process|nodejs)_/.test(name)) continue;
    const labels = (metric as unknown as { labelNames: string[] }).labelNames;
    families.set(name, { type: String(json.find((j) => j.name === name)!.type), labels: [...labels] });
  }
  return families;
}

describe("docs/metrics.md", () => {
  it.each([
    ["Gateway", () => new GatewayMetrics().registry],
    ["Operator", () => new OperatorMetrics().registry],
  ])("lists exactly the %s's metric families with their types and labels", async (section, registry) => {
    const reference = documented(section);
    const actual = await exported(registry());
    expect(reference.size).toBeGreaterThan(5);
    expect([...reference.keys()].sort()).toEqual([...actual.keys()].sort());
    for (const [name, family] of actual) {
      expect({ name, ...reference.get(name) }).toEqual({
        name,
        type: family.type,
        labels: [...family.labels].sort(),
      });
    }
  });
});
