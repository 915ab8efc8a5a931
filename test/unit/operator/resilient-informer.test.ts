import { createServer, type Server } from "node:http";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { ResilientInformer, type InformerEvent } from "../../../src/operator/informers/resilient-informer.js";
import { createLogger } from "../../../src/shared/logging.js";

const silent = createLogger("test", { destination: new Writable({ write: (_c, _e, cb) => cb() }) });

const secret = (name: string, resourceVersion: string): KubernetesObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: "a", resourceVersion },
});

/**
 * A scripted API server for one collection: each list answers the next list script entry, each
 * watch request the next watch script step (a stream of events then close, an HTTP error, or a
 * 410 Gone), and every request is recorded.
 */
type WatchStep =
  { events: Array<{ type: string; object: KubernetesObject }>; hold?: boolean } | { status: number };

async function scriptedApiServer(
  lists: Array<{ items: KubernetesObject[]; resourceVersion: string }>,
  watches: WatchStep[],
) {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    const watching = url.searchParams.get("watch") === "true";
    requests.push(watching ? `watch rv=${url.searchParams.get("resourceVersion")}` : "list");
    if (!watching) {
      const list = lists.shift()!;
      return res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          kind: "SecretList",
          apiVersion: "v1",
          metadata: { resourceVersion: list.resourceVersion },
          items: list.items,
        }),
      );
    }
    const step = watches.shift() ?? { events: [], hold: true };
    if ("status" in step) {
      return res
        .writeHead(step.status, { "content-type": "application/json" })
        .end(JSON.stringify({ kind: "Status", code: step.status }));
    }
    res.writeHead(200, { "content-type": "application/json" });
    for (const event of step.events) res.write(`${JSON.stringify(event)}\n`);
    if (!step.hold) res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, requests, server };
}

const servers: Server[] = [];
const informers: Array<ResilientInformer<KubernetesObject>> = [];
afterEach(async () => {
  for (const informer of informers.splice(0)) await informer.stop();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

describe("ResilientInformer", () => {
  it("restarts after a non-410 watch error and relists after 410 Gone", async () => {
    const api = await scriptedApiServer(
      [
        { items: [secret("one", "10")], resourceVersion: "10" },
        { items: [secret("one", "10"), secret("three", "20")], resourceVersion: "20" },
      ],
      [
        { events: [{ type: "ADDED", object: secret("two", "11") }] }, // then the server closes the watch
        { status: 500 }, // client-node gives up here: the wrapper must restart it
        { status: 410 }, // resourceVersion too old: relist
      ],
    );
    servers.push(api.server);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: api.url, skipTLSVerify: true }],
      users: [{ name: "u" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    const events: string[] = [];
    let restarts = 0;
    const informer = new ResilientInformer<KubernetesObject>({
      name: "secrets/a",
      kubeConfig: kc,
      path: "/api/v1/namespaces/a/secrets",
      list: async () => {
        const res = await fetch(`${api.url}/api/v1/namespaces/a/secrets`);
        return (await res.json()) as never;
      },
      logger: silent,
      minBackoffMs: 20,
      onEvent: (event: InformerEvent, object) => events.push(`${event} ${object.metadata!.name}`),
      onRestart: () => restarts++,
    });
    informers.push(informer);
    await informer.start();
    await expect.poll(() => events, { timeout: 5000 }).toContain("add three");
    // "one" is unchanged (same resourceVersion) in the relist, so it fires no update.
    expect(events).toEqual(["add one", "add two", "delete two", "add three"]);
    expect(restarts).toBe(1);
    // The watch after the relist starts once the relist's events are out: wait for it.
    await expect.poll(() => api.requests.length, { timeout: 5000 }).toBeGreaterThanOrEqual(6);
    expect(api.requests).toEqual([
      "list",
      "watch rv=10",
      "watch rv=11",
      "watch rv=11",
      "list",
      "watch rv=20",
    ]);
    expect(
      informer
        .list()
        .map((o) => o.metadata!.name)
        .sort(),
    ).toEqual(["one", "three"]);
  });
});
