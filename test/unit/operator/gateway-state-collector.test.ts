import { createServer, type Server } from "node:http";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { V1EndpointSlice } from "@kubernetes/client-node";
import {
  GatewayStateCollector,
  readyEndpoints,
} from "../../../src/operator/gateway-state/gateway-state-collector.js";
import { createLogger } from "../../../src/shared/logging.js";
import type { GatewayState } from "../../../src/shared/schemas/gateway-state.js";

const silent = createLogger("test", { destination: new Writable({ write: (_c, _e, cb) => cb() }) });

/** A local stand-in for a gateway pod's GET /admin/state. */
async function fakeGateway(
  state: () => GatewayState | "broken",
): Promise<{ port: number; hits: () => number; server: Server }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (req.url !== "/admin/state") return res.writeHead(404).end();
    const body = state();
    if (body === "broken") return res.writeHead(500).end("boom");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { port: typeof address === "object" && address ? address.port : 0, hits: () => hits, server };
}

function state(health: "healthy" | "unhealthy", circuit: "closed" | "open", p95Ms: number): GatewayState {
  return {
    configVersion: "v1",
    generatedAt: new Date().toISOString(),
    providers: [
      {
        providerId: "team-a/openai",
        models: [
          {
            model: "gpt",
            health,
            circuit,
            consecutiveFailures: circuit === "open" ? 5 : 0,
            latency: { p50Ms: p95Ms / 2, p95Ms },
            requests: 10,
            failures: 0,
          },
        ],
      },
    ],
  };
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe("readyEndpoints", () => {
  it("keeps ready endpoints only, on the admin port", () => {
    const slices: V1EndpointSlice[] = [
      {
        addressType: "IPv4",
        ports: [
          { name: "http", port: 8080 },
          { name: "admin", port: 9000 },
        ],
        endpoints: [
          { addresses: ["10.0.0.1"], conditions: { ready: true }, targetRef: { kind: "Pod", name: "gw-1" } },
          { addresses: ["10.0.0.2"], conditions: { ready: false } },
          { addresses: ["10.0.0.3"], conditions: { ready: true, terminating: true } },
          { addresses: ["10.0.0.4"] },
        ],
      },
      { addressType: "IPv6", ports: [{ name: "http", port: 8080 }], endpoints: [{ addresses: ["fd00::1"] }] },
    ];
    expect(readyEndpoints(slices)).toEqual([
      { address: "10.0.0.1", port: 9000, pod: "gw-1" },
      { address: "10.0.0.4", port: 9000, pod: undefined },
      { address: "fd00::1", port: 8080, pod: undefined },
    ]);
    expect(readyEndpoints(slices, 7000).every((e) => e.port === 7000)).toBe(true);
  });
});

describe("GatewayStateCollector", () => {
  it("reads /admin/state from every ready pod, merges it, and reports only changes", async () => {
    let second = state("healthy", "closed", 200);
    const one = await fakeGateway(() => state("healthy", "closed", 100));
    const two = await fakeGateway(() => second);
    const notReady = await fakeGateway(() => state("unhealthy", "open", 1));
    servers.push(one.server, two.server, notReady.server);
    // Each fake listens on its own port; the admin port is per slice, so give each its own slice.
    const slices: V1EndpointSlice[] = [one, two, notReady].map((g, i) => ({
      addressType: "IPv4",
      ports: [{ name: "admin", port: g.port }],
      endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: i < 2 } }],
    }));
    const changes: unknown[] = [];
    let selector = "";
    const collector = new GatewayStateCollector({
      discovery: {
        listNamespacedEndpointSlice: async (req: { namespace: string; labelSelector?: string }) => {
          selector = `${req.namespace}:${req.labelSelector}`;
          return { items: slices };
        },
      } as never,
      service: { namespace: "switchboard-system", name: "gateway" },
      intervalMs: 60_000,
      logger: silent,
      onChange: (s) => changes.push(s),
    });
    const merged = (await collector.collect())!;
    expect(selector).toBe("switchboard-system:kubernetes.io/service-name=gateway");
    expect(notReady.hits()).toBe(0);
    expect(merged.gateways).toBe(2);
    expect(merged.providers.get("team-a/openai")).toMatchObject({
      health: "healthy",
      circuit: "closed",
      p95Ms: 200,
    });
    await collector.collect();
    expect(changes).toHaveLength(1);

    second = state("unhealthy", "open", 300);
    const degraded = (await collector.collect())!;
    expect(changes).toHaveLength(2);
    expect(degraded.providers.get("team-a/openai")).toMatchObject({
      health: "unhealthy",
      circuit: "open",
      consecutiveFailures: 5,
      p95Ms: 300,
    });
  });

  it("leaves a pod that fails or answers garbage out of the round", async () => {
    const good = await fakeGateway(() => state("healthy", "closed", 100));
    const broken = await fakeGateway(() => "broken");
    servers.push(good.server, broken.server);
    const scrapes: string[] = [];
    const collector = new GatewayStateCollector({
      discovery: {
        listNamespacedEndpointSlice: async () => ({
          items: [good, broken].map((g) => ({
            addressType: "IPv4",
            ports: [{ port: g.port }],
            endpoints: [{ addresses: ["127.0.0.1"] }],
          })),
        }),
      } as never,
      service: { namespace: "ns", name: "gateway" },
      intervalMs: 60_000,
      logger: silent,
      onScrape: (r) => scrapes.push(r),
      onChange: () => {},
    });
    const merged = (await collector.collect())!;
    expect(merged.gateways).toBe(1);
    expect(scrapes.sort()).toEqual(["error", "ok"]);
  });
});
