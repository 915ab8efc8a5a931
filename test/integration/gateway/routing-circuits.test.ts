import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { gatewayStateSchema } from "../../../src/shared/schemas/gateway-state.js";
import type { ManifestConfigSource } from "../../../src/gateway/config/manifest-config-source.js";
import {
  ANTHROPIC_KEY,
  OPENAI_KEY,
  adminState,
  chat,
  chatCalls,
  manifests,
  modelState,
  sleep,
  type ProviderSpec,
  type RouteSpec,
} from "./routing-support.js";

/** Circuit breakers, health and /admin/state, through a real gateway and upstream fakes. */

let a: OpenAiFake;
let b: OpenAiFake;
let probed: FakeServer;
let gateway: TestGateway;
let providers: ProviderSpec[];
let routes: RouteSpec[];

const unavailable = {
  kind: "status" as const,
  status: 500,
  body: { error: { message: "The server had an error", type: "server_error", param: null, code: null } },
};

beforeAll(async () => {
  a = await startOpenAiFake({ apiKey: OPENAI_KEY });
  b = await startOpenAiFake({ apiKey: OPENAI_KEY });
  probed = await startAnthropicFake({ apiKey: ANTHROPIC_KEY });
  providers = [
    {
      name: "a",
      type: "openai",
      endpoint: a.baseUrl,
      circuitBreaker: { failureThreshold: 2, windowSeconds: 30, openSeconds: 1, halfOpenRequests: 1 },
    },
    { name: "b", type: "openai", endpoint: b.baseUrl },
    {
      name: "probed",
      type: "anthropic",
      endpoint: probed.url,
      healthCheck: { interval: "100ms", timeout: "500ms", probe: "models" },
      circuitBreaker: { failureThreshold: 3, openSeconds: 1 },
    },
  ];
  routes = [
    {
      name: "ab",
      model: "ab",
      targets: [
        { provider: "a", model: "chat" },
        { provider: "b", model: "chat" },
      ],
    },
    { name: "only-a", model: "only-a", targets: [{ provider: "a", model: "chat" }] },
  ];
  gateway = await startTestGateway(manifests(providers, routes));
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([a, b, probed].map((f) => f?.close()));
});

beforeEach(() => {
  for (const fake of [a, b]) {
    fake.requests.length = 0;
    fake.faults.length = 0;
  }
});

describe("circuit breaker per provider model", () => {
  it("opens after the threshold, skips the target, fails fast when nothing else is allowed, then half-opens and closes", async () => {
    a.faults.push(unavailable, unavailable);
    expect((await chat(gateway.url, "ab", "one")).headers.get("x-switchboard-provider")).toBe("default/b");
    expect((await chat(gateway.url, "ab", "two")).headers.get("x-switchboard-provider")).toBe("default/b");
    const opened = modelState(await adminState(gateway.adminUrl!), "default/a", "chat");
    expect(opened).toMatchObject({
      circuit: "open",
      health: "unhealthy",
      consecutiveFailures: 2,
      lastErrorClass: "upstream_unavailable",
      failures: 2,
    });
    const openedAt = Date.parse(opened.circuitSince!);
    expect(Date.now() - openedAt).toBeLessThan(1000);

    // Open: a is not contacted at all.
    const skipped = await chat(gateway.url, "ab", "three");
    expect(skipped.headers.get("x-switchboard-provider")).toBe("default/b");
    expect(skipped.headers.get("x-switchboard-attempts")).toBe("1");
    const failFast = await chat(gateway.url, "only-a", "four");
    expect(failFast.status).toBe(503);
    expect(failFast.headers.get("retry-after")).toBe("1");
    expect((failFast.body as { error: { message: string } }).error.message).toContain(
      "default/a/chat circuit open",
    );
    expect(failFast.ms).toBeLessThan(200);
    expect(chatCalls(a.requests)).toHaveLength(2);

    // After openSeconds: half-open, one trial gets through and closes the circuit.
    await sleep(Math.max(0, openedAt + 1000 - Date.now()) + 20);
    expect(modelState(await adminState(gateway.adminUrl!), "default/a", "chat").circuit).toBe("half-open");
    const trial = await chat(gateway.url, "only-a", "five");
    expect(trial.status).toBe(200);
    const closed = modelState(await adminState(gateway.adminUrl!), "default/a", "chat");
    expect(closed).toMatchObject({ circuit: "closed", consecutiveFailures: 0 });
    expect(closed.health).toBe("degraded"); // 2 of its last 3 outcomes failed
    expect(Date.parse(closed.circuitSince!)).toBeGreaterThanOrEqual(openedAt + 1000);

    const metrics = await (await fetch(`${gateway.adminUrl!}/metrics`)).text();
    expect(metrics).toContain('switchboard_circuit_state{provider="default/a",model="chat"} 0');
    expect(metrics).toMatch(
      /switchboard_circuit_transitions_total\{provider="default\/a",model="chat",state="open"\} 1/,
    );
    expect(metrics).toMatch(
      /switchboard_skipped_targets_total\{route="default\/only-a",provider="default\/a",model="chat",reason="open"\} 1/,
    );
    expect(metrics).toMatch(
      /switchboard_failovers_total\{route="default\/ab",provider="default\/a",model="chat",error_class="upstream_unavailable"\} 2/,
    );
    expect(metrics).toContain(
      'switchboard_provider_health{provider="default/a",model="chat",state="degraded"} 1',
    );
  });

  it("re-opens when the half-open trial fails", async () => {
    a.faults.push(unavailable, unavailable);
    await chat(gateway.url, "ab", "x");
    await chat(gateway.url, "ab", "y");
    const openedAt = Date.parse(
      modelState(await adminState(gateway.adminUrl!), "default/a", "chat").circuitSince!,
    );
    await sleep(Math.max(0, openedAt + 1000 - Date.now()) + 20);
    a.faults.push(unavailable);
    const trial = await chat(gateway.url, "ab", "trial");
    expect(trial.headers.get("x-switchboard-attempts")).toBe("2");
    const reopened = modelState(await adminState(gateway.adminUrl!), "default/a", "chat");
    expect(reopened.circuit).toBe("open");
    expect(Date.parse(reopened.circuitSince!)).toBeGreaterThanOrEqual(openedAt + 1000);
    await sleep(1100);
  });
});

describe("/admin/state", () => {
  it("is served on the admin listener only, in the GatewayState shape, with the config version in force", async () => {
    expect((await fetch(`${gateway.url}/admin/state`)).status).toBe(404);
    const state = gatewayStateSchema.parse(await adminState(gateway.adminUrl!));
    expect(state.configVersion).toBe(gateway.store.current!.config.version);
    expect(state.providers.map((p) => p.providerId)).toEqual(["default/a", "default/b", "default/probed"]);
    const bState = modelState(state, "default/b", "chat");
    expect(bState.requests).toBeGreaterThan(0);
    expect(bState.latency.ewmaMs).toBeGreaterThan(0);
    expect(bState.latency.p95Ms).toBeGreaterThanOrEqual(bState.latency.p50Ms!);
  });

  it("reflects active probes: healthy while they pass; failing ones open the circuit, passing ones close it again", async () => {
    await sleep(1200);
    const healthy = modelState(await adminState(gateway.adminUrl!), "default/probed", "chat");
    expect(healthy.health).toBe("healthy");
    expect(Date.now() - Date.parse(healthy.lastProbeTime!)).toBeLessThan(1000);
    expect(probed.requests.some((r) => r.method === "GET" && r.url.startsWith("/v1/models"))).toBe(true);

    probed.faults.push(
      ...Array.from({ length: 100 }, () => ({
        kind: "status" as const,
        status: 529,
        body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
      })),
    );
    await sleep(600);
    const failing = modelState(await adminState(gateway.adminUrl!), "default/probed", "chat");
    expect(failing.health).toBe("unhealthy");
    expect(failing.consecutiveFailures).toBeGreaterThanOrEqual(3);
    // No request was sent: the probes alone opened the circuit.
    expect(failing.circuit).toBe("open");
    probed.faults.length = 0;
    // After openSeconds the circuit is half-open and the next passing probe closes it.
    await sleep(1400);
    const recovered = modelState(await adminState(gateway.adminUrl!), "default/probed", "chat");
    expect(recovered).toMatchObject({ circuit: "closed", consecutiveFailures: 0 });
    // Degraded while the recent failures still weigh in the last 20 outcomes.
    expect(["healthy", "degraded"]).toContain(recovered.health);
  });

  it("keeps the state of unchanged targets across a config reload", async () => {
    a.faults.push(unavailable, unavailable);
    await chat(gateway.url, "ab", "before reload 1");
    await chat(gateway.url, "ab", "before reload 2");
    const before = await adminState(gateway.adminUrl!);
    expect(modelState(before, "default/a", "chat").circuit).toBe("open");

    await gateway.writeManifest(
      "extra-route.yaml",
      JSON.stringify({
        apiVersion: "llm.switchboard.dev/v1alpha1",
        kind: "LLMRoute",
        metadata: { name: "b-only", namespace: "default" },
        spec: { model: "b-only", targets: [{ provider: "b", model: "chat" }] },
      }),
    );
    const reloaded = await (gateway.source as ManifestConfigSource).reload();
    expect(reloaded.version).toBeDefined();
    const after = await adminState(gateway.adminUrl!);
    expect(after.configVersion).not.toBe(before.configVersion);
    const aAfter = modelState(after, "default/a", "chat");
    expect(aAfter.circuit).toBe("open");
    expect(aAfter.circuitSince).toBe(modelState(before, "default/a", "chat").circuitSince);
    expect(aAfter.requests).toBe(modelState(before, "default/a", "chat").requests);
  });
});
