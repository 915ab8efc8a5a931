import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiFake } from "../../fakes/openai-fake.js";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";
import type { Fault, FakeServer } from "../../fakes/fake-http-server.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import {
  ANTHROPIC_KEY,
  OPENAI_KEY,
  chat,
  chatCalls,
  manifests,
  streamedErrors,
  type ProviderSpec,
  type RouteSpec,
} from "./routing-support.js";

/**
 * Many requests with random upstream failures across providers with different residency facts:
 * no attempt may ever reach a provider the route's data-residency policy forbids, whatever
 * fails, falls back, retries or trips a circuit. The oracle below is written out by hand,
 * independently of the gateway's policy code.
 */

type Boundary = "provider-cloud" | "customer-cloud" | "on-premises";
interface Facts {
  type: "openai" | "anthropic";
  residency?: { boundary: Boundary; region?: string };
}

const PROVIDERS: Record<string, Facts> = {
  "eu-customer": { type: "openai", residency: { boundary: "customer-cloud", region: "eu-west-1" } },
  "eu-vendor": { type: "anthropic", residency: { boundary: "provider-cloud", region: "eu-central-1" } },
  "us-vendor": { type: "openai", residency: { boundary: "provider-cloud", region: "us-east-1" } },
  "on-prem": { type: "openai", residency: { boundary: "on-premises" } },
  "no-facts": { type: "anthropic" },
};
const NAMES = Object.keys(PROVIDERS);

/** Which providers each route may reach: the expected outcome of its policy. */
const ALLOWED: Record<string, string[]> = {
  "eu-only": ["eu-customer", "eu-vendor"], // allowedRegions eu-west-1, eu-central-1
  "customer-only": ["eu-customer", "on-prem"], // allowedBoundaries customer-cloud, on-premises
  "private-eu": ["eu-customer"], // customer-cloud in eu-west-1
  "vendor-cheap": ["eu-vendor", "us-vendor"], // provider-cloud, lowest-cost
  anywhere: NAMES, // no policy
  nowhere: [], // ap-south-1 only
};

const ROUTES: RouteSpec[] = [
  {
    name: "eu-only",
    model: "eu-only",
    strategy: "round-robin",
    targets: [],
    policy: { dataResidency: { allowedRegions: ["eu-west-1", "eu-central-1"] } },
  },
  {
    name: "customer-only",
    model: "customer-only",
    strategy: "least-latency",
    targets: [],
    policy: { dataResidency: { allowedBoundaries: ["customer-cloud", "on-premises"] } },
  },
  {
    name: "private-eu",
    model: "private-eu",
    targets: [],
    policy: { dataResidency: { allowedBoundaries: ["customer-cloud"], allowedRegions: ["eu-west-1"] } },
  },
  {
    name: "vendor-cheap",
    model: "vendor-cheap",
    strategy: "lowest-cost",
    targets: [],
    policy: { dataResidency: { allowedBoundaries: ["provider-cloud"] } },
  },
  { name: "anywhere", model: "anywhere", strategy: "weighted", targets: [] },
  {
    name: "nowhere",
    model: "nowhere",
    targets: [],
    policy: { dataResidency: { allowedRegions: ["ap-south-1"] } },
  },
].map((r) => ({
  ...r,
  // Every route lists every provider: only the policy keeps requests where they belong.
  targets: NAMES.map((provider, i) => ({
    provider,
    model: "chat",
    ...(r.strategy === "weighted" ? { weight: i + 1 } : {}),
  })),
  fallback: { onErrors: ["rate_limit", "upstream_unavailable", "timeout"] },
  retries: { attempts: 1, backoff: "1ms", maxBackoff: "20ms" },
})) as RouteSpec[];

const fakes = new Map<string, FakeServer>();
let gateway: TestGateway;

function faultFor(type: Facts["type"], kind: "503" | "429" | "reset" | "delay"): Fault {
  switch (kind) {
    case "503":
      return type === "openai"
        ? {
            kind: "status",
            status: 503,
            body: {
              error: { message: "Service unavailable", type: "server_error", param: null, code: null },
            },
          }
        : {
            kind: "status",
            status: 529,
            body: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
          };
    case "429":
      return type === "openai"
        ? {
            kind: "status",
            status: 429,
            headers: { "retry-after": "1" },
            body: {
              error: {
                message: "Rate limit reached",
                type: "requests",
                param: null,
                code: "rate_limit_exceeded",
              },
            },
          }
        : {
            kind: "status",
            status: 429,
            headers: { "retry-after": "1" },
            body: { type: "error", error: { type: "rate_limit_error", message: "Rate limited" } },
          };
    case "reset":
      return { kind: "reset" };
    case "delay":
      return { kind: "delay", ms: 30 };
  }
}

beforeAll(async () => {
  const specs: ProviderSpec[] = [];
  for (const [name, facts] of Object.entries(PROVIDERS)) {
    const fake =
      facts.type === "openai"
        ? await startOpenAiFake({ apiKey: OPENAI_KEY })
        : await startAnthropicFake({ apiKey: ANTHROPIC_KEY });
    fakes.set(name, fake);
    specs.push({
      name,
      type: facts.type,
      endpoint: facts.type === "openai" ? `${fake.url}/v1` : fake.url,
      dataResidency: facts.residency,
      models: [
        {
          name: "chat",
          providerModel: facts.type === "openai" ? "gpt-4o-mini" : "claude-haiku-4-5",
          pricing: { inputPer1M: NAMES.indexOf(name) + 1, outputPer1M: 2 },
        },
      ],
      timeouts: { firstToken: "2s", total: "3s" },
      circuitBreaker: { failureThreshold: 3, windowSeconds: 10, openSeconds: 1, halfOpenRequests: 1 },
    });
  }
  gateway = await startTestGateway(manifests(specs, ROUTES));
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([...fakes.values()].map((f) => f.close()));
});

const scenario = fc.record({
  faults: fc.dictionary(
    fc.constantFrom(...NAMES),
    fc.array(
      fc.constantFrom("503", "429", "reset", "delay") as fc.Arbitrary<"503" | "429" | "reset" | "delay">,
      { maxLength: 6 },
    ),
  ),
  requests: fc.array(fc.record({ route: fc.constantFrom(...Object.keys(ALLOWED)), stream: fc.boolean() }), {
    minLength: 1,
    maxLength: 12,
  }),
});

describe("data-residency policy under random failures", () => {
  it("never sends an attempt to a provider the route's policy forbids", async () => {
    let sent = 0;
    let retriedOrFellBack = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ faults, requests }) => {
        for (const [name, fake] of fakes) {
          fake.requests.length = 0;
          fake.faults.length = 0;
          fake.faults.push(...(faults[name] ?? []).map((kind) => faultFor(PROVIDERS[name]!.type, kind)));
        }
        const replies = await Promise.all(
          requests.map((r, i) =>
            chat(gateway.url, r.route, `route=${r.route} request=${sent + i}`, { stream: r.stream }),
          ),
        );
        sent += requests.length;

        for (const [name, fake] of fakes) {
          for (const call of chatCalls(fake.requests)) {
            const route = /route=([a-z-]+)/.exec(call.body)?.[1];
            expect(route, `a call to ${name} without a route marker`).toBeDefined();
            expect(ALLOWED[route!], `route ${route} reached ${name}`).toContain(name);
          }
        }
        replies.forEach((reply, i) => {
          const { route, stream } = requests[i]!;
          if (route === "nowhere") {
            expect(reply.status).toBe(403);
            expect((reply.body as { error: { code: string; message: string } }).error.message).toContain(
              "data-residency policy (regions ap-south-1)",
            );
            return;
          }
          // Exactly one answer: a success from an allowed provider, or one error.
          if (reply.status === 200) {
            const provider = reply.headers.get("x-switchboard-provider")!.replace("default/", "");
            expect(ALLOWED[route]).toContain(provider);
            if (Number(reply.headers.get("x-switchboard-attempts")) > 1) retriedOrFellBack++;
            if (stream) {
              const done = reply.text.split("\n").filter((l) => l === "data: [DONE]").length;
              expect(done + streamedErrors(reply.text).length).toBe(1);
            } else {
              expect((reply.body as { choices: unknown[] }).choices).toHaveLength(1);
            }
          } else {
            expect([429, 503, 504]).toContain(reply.status);
            expect((reply.body as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
          }
        });
      }),
      {
        numRuns: 30,
        // Runs first, on closed circuits, so the failures surely bite at least once: a failed
        // attempt on the only allowed provider is retried there.
        examples: [
          [
            {
              faults: { "eu-customer": ["503", "reset"] },
              requests: [
                { route: "private-eu", stream: false },
                { route: "private-eu", stream: true },
              ],
            },
          ],
        ],
      },
    );
    expect(sent).toBeGreaterThan(30);
    // The failures did bite: requests were retried or moved to another target along the way.
    expect(retriedOrFellBack).toBeGreaterThan(0);
  });
});

describe("a residency refusal in each client format", () => {
  it("carries the gateway's policy_violation class on /v1/messages as on /v1/chat/completions", async () => {
    const body = { model: "nowhere", max_tokens: 16, messages: [{ role: "user", content: "hi" }] };
    const anthropic = await fetch(`${gateway.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(anthropic.status).toBe(403);
    const refused = (await anthropic.json()) as { type: string; error: { type: string; code: string } };
    expect(refused).toMatchObject({
      type: "error",
      error: { type: "permission_error", code: "policy_violation" },
    });
    const openai = await chat(gateway.url, "nowhere", "hi");
    expect((openai.body as { error: { code: string } }).error.code).toBe("policy_violation");
  });
});
