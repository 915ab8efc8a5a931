import { describe, expect, it } from "vitest";
import { emptyCompileOutcome } from "../../../src/operator/compile-outcome.js";
import { findCondition } from "../../../src/shared/conditions.js";
import { desiredProviderStatus } from "../../../src/operator/status/provider-status.js";
import type { LLMProvider } from "../../../src/shared/schemas/llm-provider.js";
import {
  API_KEY,
  compileOutcome,
  openAiSpec,
  provider,
  secret,
  stateOfProviderP,
} from "./status-fixtures.js";

const asProvider = (o: unknown) => o as LLMProvider;
const NOW = new Date("2026-01-01T00:00:00Z");

describe("desiredProviderStatus", () => {
  it("starts a new provider with Ready, CredentialsResolved and Healthy Unknown before the first compile", () => {
    const status = desiredProviderStatus(
      asProvider(provider("a", "p", openAiSpec())),
      emptyCompileOutcome(),
      undefined,
      NOW,
    )!;
    expect(status.conditions!.map((c) => [c.type, c.status])).toEqual([
      ["Ready", "Unknown"],
      ["CredentialsResolved", "Unknown"],
      ["Healthy", "Unknown"],
    ]);
  });

  it("says nothing while a changed generation is not compiled yet, rather than flapping to Unknown", () => {
    const object = asProvider(provider("a", "p", openAiSpec(), 2));
    object.status = {
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "Published",
          message: "",
          lastTransitionTime: "2026-01-01T00:00:00Z",
        },
      ],
    };
    const outcome = compileOutcome([
      provider("a", "p", openAiSpec(), 1),
      secret("a", "openai-key", { apiKey: API_KEY }),
    ]);
    expect(desiredProviderStatus(object, outcome, undefined, NOW)).toBeUndefined();
  });

  it("is Ready once the published snapshot carries this generation", () => {
    const objects = [provider("a", "p", openAiSpec()), secret("a", "openai-key", { apiKey: API_KEY })];
    const outcome = compileOutcome(objects);
    const status = desiredProviderStatus(asProvider(objects[0]), outcome, undefined, NOW)!;
    expect(status.observedGeneration).toBe(1);
    expect(findCondition(status.conditions, "Ready")).toMatchObject({
      status: "True",
      reason: "Published",
      observedGeneration: 1,
    });
    expect(findCondition(status.conditions, "CredentialsResolved")).toMatchObject({
      status: "True",
      reason: "SecretResolved",
    });
    expect(findCondition(status.conditions, "Healthy")).toMatchObject({
      status: "Unknown",
      reason: "NoGatewayState",
    });
    expect(status.health).toBe("unknown");
    expect(status.configVersion).toBe(outcome.published!.version);
  });

  it("says a ready gateway reported, but not this provider yet, rather than that none reported", () => {
    const outcome = compileOutcome([
      provider("a", "new", openAiSpec()),
      secret("a", "openai-key", { apiKey: API_KEY }),
    ]);
    const status = desiredProviderStatus(
      provider("a", "new", openAiSpec()) as unknown as LLMProvider,
      outcome,
      stateOfProviderP(null, []),
    )!;
    expect(findCondition(status.conditions, "Healthy")).toMatchObject({
      status: "Unknown",
      reason: "NoGatewayState",
      message:
        "1 ready gateway reported, but not this provider yet: they serve an older config (the next state collection sees it)",
    });
  });

  it("reports a missing Secret or key by name, and leaves other providers Ready", () => {
    const objects = [
      provider("a", "missing-secret", openAiSpec("nope")),
      provider("a", "missing-key", openAiSpec("openai-key", "wrongKey")),
      provider("a", "fine", openAiSpec()),
      secret("a", "openai-key", { apiKey: API_KEY }),
    ];
    const outcome = compileOutcome(objects);
    const [missingSecret, missingKey, fine] = objects.map((o) =>
      desiredProviderStatus(asProvider(o), outcome, undefined, NOW),
    );
    expect(findCondition(missingSecret!.conditions, "CredentialsResolved")).toMatchObject({
      status: "False",
      reason: "SecretNotFound",
    });
    expect(findCondition(missingSecret!.conditions, "CredentialsResolved")!.message).toContain(
      'Secret "nope" not found in namespace "a"',
    );
    expect(findCondition(missingSecret!.conditions, "Ready")).toMatchObject({
      status: "False",
      reason: "SecretNotFound",
    });
    expect(findCondition(missingKey!.conditions, "CredentialsResolved")).toMatchObject({
      status: "False",
      reason: "KeyNotFound",
    });
    expect(findCondition(missingKey!.conditions, "CredentialsResolved")!.message).toContain(
      'no key "wrongKey"',
    );
    expect(findCondition(fine!.conditions, "Ready")!.status).toBe("True");
  });

  it("marks an invalid provider with the compiler's reason and keeps others on the last good snapshot", () => {
    const good = [provider("a", "p", openAiSpec()), secret("a", "openai-key", { apiKey: API_KEY })];
    const first = compileOutcome(good);
    const broken = provider("a", "broken", {
      type: "openai-compatible",
      credentials: { none: {} },
      models: [{ name: "x" }],
    });
    const changed = provider("a", "p", { ...openAiSpec(), models: [{ name: "gpt" }] }, 2);
    const second = compileOutcome([changed, good[1]!, broken], first);
    expect(second.published!.version).toBe(first.published!.version);
    const brokenStatus = desiredProviderStatus(asProvider(broken), second, undefined, NOW)!;
    expect(findCondition(brokenStatus.conditions, "Ready")).toMatchObject({
      status: "False",
      reason: "InvalidSpec",
    });
    expect(findCondition(brokenStatus.conditions, "Ready")!.message).toContain("spec.endpoint is required");
    const changedStatus = desiredProviderStatus(asProvider(changed), second, undefined, NOW)!;
    expect(findCondition(changedStatus.conditions, "Ready")).toMatchObject({
      status: "False",
      reason: "ConfigNotPublished",
    });
    expect(findCondition(changedStatus.conditions, "Ready")!.message).toContain("LLMProvider/a/broken");
  });

  it("writes the gateways' merged health, circuit and latency", () => {
    const objects = [provider("a", "p", openAiSpec()), secret("a", "openai-key", { apiKey: API_KEY })];
    const outcome = compileOutcome(objects);
    const state = stateOfProviderP(outcome.published!.version, [
      {
        model: "gpt",
        health: "unhealthy",
        circuit: "open",
        consecutiveFailures: 5,
        latency: { p50Ms: 12.34, p95Ms: 250 },
        lastProbeTime: "2026-01-01T00:00:05Z",
        lastErrorClass: "upstream_unavailable",
        requests: 10,
        failures: 5,
      },
      {
        model: "mini",
        health: "healthy",
        circuit: "closed",
        consecutiveFailures: 0,
        latency: {},
        requests: 1,
        failures: 0,
      },
    ]);
    const status = desiredProviderStatus(asProvider(objects[0]), outcome, state, NOW)!;
    expect(status).toMatchObject({
      health: "unhealthy",
      circuit: "open",
      consecutiveFailures: 5,
      latency: { p50Ms: 12.3, p95Ms: 250 },
      lastProbeTime: "2026-01-01T00:00:05Z",
    });
    const healthy = findCondition(status.conditions, "Healthy")!;
    expect(healthy).toMatchObject({ status: "False", reason: "CircuitOpen" });
    expect(healthy.message).toContain("circuit open for gpt");
  });

  it("keeps a provider's configVersion, and so its status, when only something else changed", () => {
    const objects = [
      provider("a", "p", openAiSpec()),
      provider("a", "q", openAiSpec()),
      secret("a", "openai-key", { apiKey: API_KEY }),
    ];
    const first = compileOutcome(objects);
    const changedQ = provider("a", "q", { ...openAiSpec(), models: [{ name: "gpt" }] }, 2);
    const second = compileOutcome([objects[0]!, changedQ, objects[2]!], first);
    expect(second.published!.version).not.toBe(first.published!.version);
    const p1 = desiredProviderStatus(asProvider(objects[0]), first, undefined, NOW)!;
    const p2 = desiredProviderStatus(asProvider({ ...objects[0]!, status: p1 }), second, undefined, NOW)!;
    expect(p2).toEqual(p1);
    expect(p1.configVersion).toBe(first.published!.version);
    expect(desiredProviderStatus(asProvider(changedQ), second, undefined, NOW)!.configVersion).toBe(
      second.published!.version,
    );
  });

  it("never puts a credential value into status", () => {
    const objects = [
      provider("a", "p", openAiSpec()),
      provider("a", "q", openAiSpec("openai-key", "other")),
      secret("a", "openai-key", { apiKey: API_KEY }),
    ];
    const outcome = compileOutcome(objects);
    for (const o of objects.slice(0, 2)) {
      expect(JSON.stringify(desiredProviderStatus(asProvider(o), outcome, undefined, NOW))).not.toContain(
        API_KEY,
      );
    }
  });
});
