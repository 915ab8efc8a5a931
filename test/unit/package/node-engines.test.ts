import { readFileSync } from "node:fs";
import path from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";

/**
 * Every installed package supports every Node version package.json's engines admits: `npm ci`
 * only warns against the Node it runs on, so a dependency that drops Node 20 would otherwise slip
 * in unnoticed (cookie 2, through fastify's light-my-request, did: hence the override).
 */
const ROOT = path.resolve(import.meta.dirname, "../../..");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  engines: { node: string };
};
const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, { engines?: { node?: string } | string[] }>;
};

describe("engines.node", () => {
  it("admits Node 20 and nothing a locked package refuses", () => {
    const ours = pkg.engines.node;
    expect(semver.satisfies("20.19.0", ours)).toBe(true);
    const refused = Object.entries(lock.packages)
      .map(([name, entry]) => [name, Array.isArray(entry.engines) ? undefined : entry.engines?.node] as const)
      .filter(([name, range]) => name !== "" && range !== undefined && !semver.subset(ours, range))
      .map(([name, range]) => `${name.replace(/^.*node_modules\//, "")} needs node ${range}`);
    expect(refused).toEqual([]);
  });
});
