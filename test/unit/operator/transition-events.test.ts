import { describe, expect, it } from "vitest";
import type { Condition } from "../../../src/shared/schemas/common.js";
import type { EventRecorder } from "../../../src/operator/event-recorder.js";
import { recordTransitions } from "../../../src/operator/status/transition-events.js";

const ref = { apiVersion: "llm.switchboard.dev/v1alpha1", kind: "LLMProvider", namespace: "ns", name: "p" };
const at = "2026-01-01T00:00:00Z";

function healthy(status: Condition["status"], reason: string, message = reason): Condition {
  return { type: "Healthy", status, reason, message, lastTransitionTime: at, observedGeneration: 1 };
}

function eventsFor(before: Condition[] | undefined, after: Condition[]): string[] {
  const recorded: string[] = [];
  const recorder = {
    record: async (_ref: unknown, type: string, reason: string) => {
      recorded.push(`${type}/${reason}`);
    },
  } as unknown as EventRecorder;
  recordTransitions(recorder, ref, before, after);
  return recorded;
}

describe("recordTransitions", () => {
  it("warns when a condition goes False and tells when it recovers", () => {
    expect(eventsFor([healthy("True", "Healthy")], [healthy("False", "CircuitOpen")])).toEqual([
      "Warning/CircuitOpen",
    ]);
    expect(eventsFor([healthy("False", "CircuitOpen")], [healthy("True", "Healthy")])).toEqual([
      "Normal/Healthy",
    ]);
  });

  it("warns again when a False condition changes its reason, as an unhealthy provider's circuit opens", () => {
    expect(eventsFor([healthy("False", "Unhealthy")], [healthy("False", "CircuitOpen")])).toEqual([
      "Warning/CircuitOpen",
    ]);
  });

  it("stays quiet on message-only changes, moves to Unknown and conditions born True", () => {
    expect(
      eventsFor([healthy("False", "Unhealthy", "2 failures")], [healthy("False", "Unhealthy", "5 failures")]),
    ).toEqual([]);
    expect(eventsFor([healthy("True", "Healthy")], [healthy("True", "Probed", "other reason")])).toEqual([]);
    expect(eventsFor([healthy("False", "Unhealthy")], [healthy("Unknown", "Reconciling")])).toEqual([]);
    expect(eventsFor(undefined, [healthy("True", "Healthy")])).toEqual([]);
    // A new object's conditions start Unknown; becoming True at creation is not a recovery.
    expect(eventsFor([healthy("Unknown", "Reconciling")], [healthy("True", "Healthy")])).toEqual([]);
  });
});
