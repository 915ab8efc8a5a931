import { describe, expect, it } from "vitest";
import { costUsd } from "../../../../src/gateway/usage/cost.js";

describe("costUsd", () => {
  it("prices input and output tokens per million at the model's list prices", () => {
    // 1,200 in at $2.50/M + 300 out at $10/M = 0.003 + 0.003
    expect(
      costUsd({ inputTokens: 1_200, outputTokens: 300 }, { inputPer1M: 2.5, outputPer1M: 10 }),
    ).toBeCloseTo(0.006, 12);
  });

  it("prices embeddings (input only)", () => {
    expect(costUsd({ inputTokens: 1_000_000 }, { inputPer1M: 0.02, outputPer1M: 0 })).toBeCloseTo(0.02, 12);
  });

  it("is undefined, not zero, for an unpriced model", () => {
    expect(costUsd({ inputTokens: 10, outputTokens: 10 }, undefined)).toBeUndefined();
  });
});
