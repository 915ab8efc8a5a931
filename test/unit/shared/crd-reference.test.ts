import { describe, expect, it } from "vitest";
import { CRD_DEFINITIONS } from "../../../src/shared/crd/crd-definitions.js";
import { buildCrd } from "../../../src/shared/crd/crd-files.js";
import { renderReference } from "../../../src/shared/crd/crd-reference.js";

interface Node {
  type?: string;
  properties?: Record<string, Node>;
  items?: Node;
}

/** Every field path `kubectl explain --recursive` would list under spec and status. */
function fieldPaths(node: Node, path: string, out: string[]): string[] {
  out.push(path);
  const object = node.type === "array" && node.items ? node.items : node;
  const prefix = node.type === "array" ? `${path}[]` : path;
  for (const [name, child] of Object.entries(object.properties ?? {}))
    fieldPaths(child, `${prefix}.${name}`, out);
  return out;
}

describe("field reference", () => {
  for (const def of CRD_DEFINITIONS) {
    it(`documents every field of ${def.kind} that the CRD has`, () => {
      const crd = buildCrd(def) as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
      const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
      const page = renderReference(def);
      const paths = ["spec", "status"].flatMap((part) =>
        root.properties?.[part] ? fieldPaths(root.properties[part], part, []) : [],
      );
      expect(paths.length).toBeGreaterThan(5);
      for (const path of paths) expect(page).toContain(`| \`${path}\` |`);
    });
  }

  it("states allowed values, defaults and apply-time rules where a user looks for them", () => {
    const route = renderReference(CRD_DEFINITIONS.find((d) => d.kind === "LLMRoute")!);
    const boundaries = route
      .split("\n")
      .find((l) => l.includes("`spec.policy.dataResidency.allowedBoundaries`"));
    expect(boundaries).toContain("`provider-cloud`, `customer-cloud`, `on-premises`");
    const attempts = route.split("\n").find((l) => l.includes("`spec.retries.attempts`"));
    expect(attempts).toMatch(/by default/);
    expect(route).toContain("kubectl get llmroutes");
  });
});
