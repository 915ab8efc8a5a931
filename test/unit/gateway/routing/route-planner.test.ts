import { describe, expect, it } from "vitest";
import { RoutePlanner } from "../../../../src/gateway/routing/route-planner.js";
import type { GatewayError } from "../../../../src/shared/errors.js";
import { CHAT_NEEDS, model, names, provider, route, runtime } from "./routing-fixtures.js";

function failure(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error("expected an error");
}

describe("RoutePlanner", () => {
  const eu = provider("eu", { dataResidency: { boundary: "customer-cloud", region: "eu-west-1" } });
  const us = provider("us", { dataResidency: { boundary: "provider-cloud", region: "us-east-1" } });
  const onprem = provider("onprem", {
    dataResidency: { boundary: "on-premises" },
    models: [model({ contextWindow: 100 })],
  });
  const facts = provider("nofacts");

  it("orders targets by priority, then list order", () => {
    const r = route([
      { provider: "us", priority: 2 },
      { provider: "eu", priority: 1 },
      { provider: "onprem", priority: 1 },
    ]);
    const planner = new RoutePlanner({ latencyMs: () => undefined });
    expect(names(planner.plan(runtime([eu, us, onprem], [r]), r, CHAT_NEEDS))).toEqual([
      "eu",
      "onprem",
      "us",
    ]);
  });

  it("lets the data-residency policy filter every target, and treats missing facts as not allowed", () => {
    const r = route(
      [{ provider: "us" }, { provider: "eu" }, { provider: "nofacts" }, { provider: "onprem" }],
      {
        policy: { dataResidency: { allowedBoundaries: ["customer-cloud", "on-premises"] } },
      },
    );
    const planner = new RoutePlanner({ latencyMs: () => undefined });
    expect(names(planner.plan(runtime([eu, us, onprem, facts], [r]), r, CHAT_NEEDS))).toEqual([
      "eu",
      "onprem",
    ]);
    const regional = route([{ provider: "us" }, { provider: "eu" }, { provider: "onprem" }], {
      policy: { dataResidency: { allowedRegions: ["eu-west-1"] } },
    });
    expect(names(planner.plan(runtime([eu, us, onprem], [regional]), regional, CHAT_NEEDS))).toEqual(["eu"]);
  });

  it("fails with policy_violation naming the policy when no target is allowed", () => {
    const r = route([{ provider: "us" }, { provider: "nofacts" }], {
      policy: { dataResidency: { allowedBoundaries: ["on-premises"], allowedRegions: ["eu-west-1"] } },
    });
    const err = failure(() =>
      new RoutePlanner({ latencyMs: () => undefined }).plan(runtime([us, facts], [r]), r, CHAT_NEEDS),
    );
    expect(err.errorClass).toBe("policy_violation");
    expect(err.message).toBe(
      "route default/r has no target allowed by its data-residency policy (boundaries on-premises; regions eu-west-1); the request was not sent anywhere",
    );
  });

  it("applies the capability filter after the policy: only allowed targets are considered", () => {
    const r = route([{ provider: "onprem" }, { provider: "us" }], {
      policy: { dataResidency: { allowedBoundaries: ["on-premises"] } },
    });
    const err = failure(() =>
      new RoutePlanner({ latencyMs: () => undefined }).plan(runtime([onprem, us], [r]), r, {
        ...CHAT_NEEDS,
        contextTokens: 500,
      }),
    );
    expect(err.errorClass).toBe("context_length_exceeded");
    expect(err.message).toContain("default/onprem/m has a 100-token context window");
    expect(err.message).not.toContain("default/us");
  });

  it("keeps round-robin turns per route and uses live latency for least-latency", () => {
    const rr = route([{ provider: "eu" }, { provider: "us" }], { id: "default/rr", strategy: "round-robin" });
    const fast = route([{ provider: "eu" }, { provider: "us" }], {
      id: "default/fast",
      strategy: "least-latency",
    });
    const rt = runtime([eu, us], [rr, fast]);
    const latency: Record<string, number> = { "default/eu/m": 300, "default/us/m": 20 };
    const planner = new RoutePlanner({ latencyMs: (key) => latency[key], random: () => 0.9 });
    expect(names(planner.plan(rt, rr, CHAT_NEEDS))).toEqual(["eu", "us"]);
    expect(names(planner.plan(rt, fast, CHAT_NEEDS))).toEqual(["us", "eu"]);
    expect(names(planner.plan(rt, rr, CHAT_NEEDS))).toEqual(["us", "eu"]);
    latency["default/eu/m"] = 5;
    expect(names(planner.plan(rt, fast, CHAT_NEEDS))).toEqual(["eu", "us"]);
  });
});
