import { describe, expect, it } from "vitest";
import { findCondition, mergeConditions, unknownConditions } from "../../../src/shared/conditions.js";

describe("mergeConditions", () => {
  const t0 = new Date("2026-01-01T00:00:00.000Z");
  const t1 = new Date("2026-01-01T00:05:00.000Z");

  it("starts new objects with every condition Unknown", () => {
    const conditions = mergeConditions(undefined, unknownConditions(["Ready", "Healthy"], "not yet"), 1, t0);
    expect(conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration])).toEqual([
      ["Ready", "Unknown", "Reconciling", 1],
      ["Healthy", "Unknown", "Reconciling", 1],
    ]);
    expect(conditions[0]!.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
  });

  it("moves lastTransitionTime only when the status changes", () => {
    const first = mergeConditions(
      undefined,
      [{ type: "Ready", status: "True", reason: "Published", message: "v1" }],
      1,
      t0,
    );
    const sameStatus = mergeConditions(
      first,
      [{ type: "Ready", status: "True", reason: "Published", message: "v2" }],
      2,
      t1,
    );
    expect(sameStatus[0]!.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
    expect(sameStatus[0]!.observedGeneration).toBe(2);
    expect(sameStatus[0]!.message).toBe("v2");
    const flipped = mergeConditions(
      sameStatus,
      [{ type: "Ready", status: "False", reason: "InvalidSpec", message: "bad" }],
      3,
      t1,
    );
    expect(findCondition(flipped, "Ready")).toMatchObject({
      status: "False",
      lastTransitionTime: "2026-01-01T00:05:00Z",
    });
  });
});
