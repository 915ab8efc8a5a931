import { describe, expect, it } from "vitest";
import { findCondition } from "../../../src/shared/conditions.js";
import { desiredRouteStatus } from "../../../src/operator/status/route-status.js";
import type { MergedGatewayState } from "../../../src/operator/gateway-state/merge-gateway-states.js";
import type { WatchedObject } from "../../../src/operator/informers/watched-resources.js";
import type { LLMRoute } from "../../../src/shared/schemas/llm-route.js";
import {
  API_KEY,
  compileOutcome,
  openAiSpec,
  provider,
  route,
  secret,
  stateOfProviderP,
} from "./status-fixtures.js";

const asRoute = (o: unknown) => o as LLMRoute;
const NOW = new Date("2026-01-01T00:00:00Z");
const base = [provider("a", "p", openAiSpec()), secret("a", "openai-key", { apiKey: API_KEY })];
const chatOverGptAndMini = () =>
  route("a", "chat", {
    model: "chat",
    targets: [
      { provider: "p", model: "gpt" },
      { provider: "p", model: "mini" },
    ],
  });
/** The status of route `r` next to provider a/p and its Secret. */
const statusOf = (r: WatchedObject, state?: MergedGatewayState) =>
  desiredRouteStatus(asRoute(r), compileOutcome([...base, r]), state, NOW)!;

describe("desiredRouteStatus", () => {
  it("is Ready with ResolvedRefs True when every target resolves and the snapshot carries it", () => {
    const r = chatOverGptAndMini();
    const status = statusOf(r);
    expect(findCondition(status.conditions, "Ready")).toMatchObject({ status: "True", reason: "Published" });
    expect(findCondition(status.conditions, "ResolvedRefs")).toMatchObject({
      status: "True",
      reason: "AllRefsResolved",
    });
    expect(status.targetCount).toBe(2);
    expect(status.targets).toEqual([
      { provider: "p", model: "gpt", health: "unknown", allowed: true },
      { provider: "p", model: "mini", health: "unknown", allowed: true },
    ]);
  });

  it("stays Ready but sets ResolvedRefs False when a consumer's API-key Secret is missing", () => {
    const r = route("a", "chat", {
      model: "chat",
      targets: [{ provider: "p", model: "gpt" }],
      consumers: [{ name: "team", apiKeySecretRef: { name: "team-key", key: "key" } }],
    });
    const status = statusOf(r);
    expect(findCondition(status.conditions, "Ready")).toMatchObject({ status: "True" });
    expect(findCondition(status.conditions, "ResolvedRefs")).toMatchObject({
      status: "False",
      reason: "SecretNotFound",
      message: 'consumer "team": Secret "team-key" not found; it cannot authenticate',
    });
  });

  it("refuses a provider in another namespace: routes reference providers only in their own", () => {
    const r = route("b", "chat", { model: "chat", targets: [{ provider: "p", model: "gpt" }] });
    const status = statusOf(r);
    expect(findCondition(status.conditions, "ResolvedRefs")).toMatchObject({
      status: "False",
      reason: "ProviderNotFound",
    });
    expect(findCondition(status.conditions, "ResolvedRefs")!.message).toContain(
      'LLMProvider "p" not found in namespace "b"',
    );
    expect(findCondition(status.conditions, "Ready")).toMatchObject({
      status: "False",
      reason: "ProviderNotFound",
    });
    expect(status.targetCount).toBe(0);
  });

  it("is not Ready when a target's provider is gone, and says what the route still sends to", () => {
    const r = route("a", "chat", {
      model: "chat",
      targets: [
        { provider: "gone", model: "gpt" },
        { provider: "p", model: "mini" },
      ],
    });
    const status = statusOf(r);
    expect(findCondition(status.conditions, "Ready")).toMatchObject({
      status: "False",
      reason: "ProviderNotFound",
      message:
        'LLMProvider "gone" not found in namespace "a" (or it is invalid); the route sends only to its 1 resolved target',
    });
    expect(status.targetCount).toBe(1);
    expect(status.targets).toEqual([
      { provider: "gone", model: "gpt", health: "unknown" },
      { provider: "p", model: "mini", health: "unknown", allowed: true },
    ]);
    const alone = statusOf(
      route("a", "chat", { model: "chat", targets: [{ provider: "gone", model: "gpt" }] }),
    );
    expect(findCondition(alone.conditions, "Ready")!.message).toContain(
      "the route has no target left: every call is answered 503 until a target resolves",
    );
  });

  it("is not Ready when its data-residency policy admits none of its targets, naming policy and targets", () => {
    const r = route("a", "chat", {
      model: "chat",
      targets: [
        { provider: "p", model: "gpt" },
        { provider: "eu", model: "gpt" },
      ],
      policy: { dataResidency: { allowedBoundaries: ["customer-cloud"], allowedRegions: ["eu-west-1"] } },
    });
    const eu = provider("a", "eu", {
      ...openAiSpec(),
      dataResidency: { boundary: "provider-cloud", region: "eu-west-1" },
    });
    const status = desiredRouteStatus(asRoute(r), compileOutcome([...base, eu, r]), undefined, NOW)!;
    expect(findCondition(status.conditions, "Ready")).toMatchObject({
      status: "False",
      reason: "ResidencyExcludesAllTargets",
      message:
        "spec.policy.dataResidency (boundaries customer-cloud; regions eu-west-1) admits none of the targets: " +
        "a/p/gpt (no spec.dataResidency), a/eu/gpt (provider-cloud, eu-west-1); every call is refused with 403. " +
        "Widen the policy, or declare spec.dataResidency on a provider that meets it",
    });
    expect(status.targets!.map((t) => t.allowed)).toEqual([false, false]);

    const widened = {
      ...r,
      spec: { ...(r.spec as object), policy: { dataResidency: { allowedRegions: ["eu-west-1"] } } },
    };
    const some = desiredRouteStatus(
      asRoute(widened),
      compileOutcome([...base, eu, widened]),
      undefined,
      NOW,
    )!;
    expect(findCondition(some.conditions, "Ready")).toMatchObject({ status: "True" });
    expect(some.targets!.map((t) => t.allowed)).toEqual([false, true]);
  });

  it("names the missing model and the ones the provider serves", () => {
    const r = route("a", "chat", { model: "chat", targets: [{ provider: "p", model: "nope" }] });
    const status = statusOf(r);
    expect(findCondition(status.conditions, "ResolvedRefs")).toMatchObject({
      status: "False",
      reason: "ModelNotFound",
    });
    expect(findCondition(status.conditions, "ResolvedRefs")!.message).toContain('"gpt", "mini"');
  });

  it("reports each target's health and circuit from the gateways", () => {
    const r = chatOverGptAndMini();
    const state = stateOfProviderP(null, [
      {
        model: "gpt",
        health: "unhealthy",
        circuit: "open",
        consecutiveFailures: 3,
        latency: {},
        requests: 3,
        failures: 3,
      },
    ]);
    const status = statusOf(r, state);
    expect(status.targets).toEqual([
      { provider: "p", model: "gpt", health: "unhealthy", circuit: "open", allowed: true },
      { provider: "p", model: "mini", health: "unknown", allowed: true },
    ]);
  });
});
