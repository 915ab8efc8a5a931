import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { createGatewayServer } from "../../../../src/gateway/server/gateway-server.js";
import type { GatewayDeps } from "../../../../src/gateway/server/request-context.js";

/** README's "Gateway endpoints" table against the routes the gateway registers, both ways. */

const README = path.resolve(import.meta.dirname, "../../../../README.md");

function readmeEndpoints(): string[] {
  const lines = readFileSync(README, "utf8").split("\n");
  const after = lines.slice(lines.indexOf("## Gateway endpoints"));
  const first = after.findIndex((line) => line.startsWith("|"));
  const end = after.findIndex((line, i) => i > first && !line.startsWith("|"));
  // The header and its separator row come first.
  const rows = after.slice(first + 2, end);
  return rows.flatMap((line) =>
    [...line.split("|")[1]!.matchAll(/`(GET|POST) ([^`]+)`/g)].map((m) => `${m[1]} ${m[2]}`),
  );
}

/** `printRoutes` draws a tree: each level indents by four characters and continues its parent's path. */
function registeredEndpoints(app: FastifyInstance): string[] {
  const parents: string[] = [];
  return app
    .printRoutes({ commonPrefix: false })
    .split("\n")
    .flatMap((line) => {
      const match = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)/.exec(line);
      if (!match) return [];
      const depth = match[1]!.length / 4;
      const full = (parents[depth - 1] ?? "") + match[2]!;
      parents[depth] = full;
      return match[3]!
        .split(", ")
        .filter((method) => method !== "HEAD")
        .map((method) => `${method} ${full}`);
    });
}

let app: FastifyInstance;

beforeAll(async () => {
  // Registering routes touches none of the dependencies; handlers are never called here.
  app = createGatewayServer({} as GatewayDeps);
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

describe("README's gateway endpoint table", () => {
  it("lists exactly the endpoints the gateway serves", () => {
    expect(readmeEndpoints().sort()).toEqual(registeredEndpoints(app).sort());
  });

  it("includes the Responses API and text completions", () => {
    expect(readmeEndpoints()).toEqual(expect.arrayContaining(["POST /v1/responses", "POST /v1/completions"]));
  });
});
