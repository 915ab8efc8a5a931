import { describe, expect, it } from "vitest";
import { argoHealth as health } from "../../support/argocd-health.js";

const ready = (status: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name: "p", generation: 2 },
  status: {
    observedGeneration: 2,
    conditions: [
      { type: "Ready", status, reason: status === "True" ? "Ready" : "SecretNotFound", message: "msg" },
    ],
    ...extra,
  },
});

describe("Argo CD health checks", () => {
  it("LLMProvider: Progressing until observed, Healthy when Ready, Degraded when not or when its circuit is open", async () => {
    expect((await health("llmprovider", { metadata: { name: "p", generation: 1 } })).status).toBe(
      "Progressing",
    );
    expect(
      (await health("llmprovider", { ...ready("True"), metadata: { name: "p", generation: 3 } })).status,
    ).toBe("Progressing");
    expect(
      (await health("llmprovider", ready("True", { health: "healthy", circuit: "closed" }))).status,
    ).toBe("Healthy");
    expect(await health("llmprovider", ready("False"))).toEqual({
      status: "Degraded",
      message: "SecretNotFound: msg",
    });
    expect(
      (await health("llmprovider", ready("True", { health: "unhealthy", circuit: "open" }))).status,
    ).toBe("Degraded");
    expect(
      (await health("llmprovider", { ...ready("True"), metadata: { deletionTimestamp: "x", generation: 2 } }))
        .message,
    ).toBe("Terminating");
  });

  it("LLMRoute follows the Ready condition", async () => {
    expect((await health("llmroute", ready("True"))).status).toBe("Healthy");
    expect((await health("llmroute", ready("False"))).status).toBe("Degraded");
  });

  it("EmbeddingMigration maps phases", async () => {
    const mig = (phase: string) => ({ metadata: {}, status: { phase, progress: { done: 5, total: 10 } } });
    expect(await health("embeddingmigration", mig("Running"))).toEqual({
      status: "Progressing",
      message: "Running 5/10",
    });
    expect((await health("embeddingmigration", mig("Succeeded"))).status).toBe("Healthy");
    expect((await health("embeddingmigration", mig("Failed"))).status).toBe("Degraded");
    expect((await health("embeddingmigration", mig("Paused"))).status).toBe("Suspended");
  });
});
