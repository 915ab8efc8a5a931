import { describe, expect, it } from "vitest";
import {
  ASSUMED_OUTPUT_TOKENS,
  estimatedCost,
  lowestCostStrategy,
} from "../../../../../src/gateway/routing/strategies/lowest-cost-strategy.js";
import { CHAT_NEEDS, candidates, model, names, strategyContext } from "../routing-fixtures.js";

describe("lowest-cost strategy", () => {
  it("orders by pricing × estimated tokens, unpriced targets last", () => {
    const list = candidates([
      { name: "unpriced" },
      { name: "dear", model: { pricing: { inputPer1M: 10, outputPer1M: 30 } } },
      { name: "cheap", model: { pricing: { inputPer1M: 0.5, outputPer1M: 1.5 } } },
    ]);
    expect(names(lowestCostStrategy(list, strategyContext()))).toEqual(["cheap", "dear", "unpriced"]);
  });

  it("weighs input against output by the request: a long prompt favours cheap input", () => {
    const list = candidates([
      { name: "cheap-output", model: { pricing: { inputPer1M: 5, outputPer1M: 1 } } },
      { name: "cheap-input", model: { pricing: { inputPer1M: 1, outputPer1M: 5 } } },
    ]);
    const longPrompt = strategyContext({
      needs: { ...CHAT_NEEDS, inputTokens: 100_000, maxOutputTokens: 100 },
    });
    const longAnswer = strategyContext({
      needs: { ...CHAT_NEEDS, inputTokens: 100, maxOutputTokens: 100_000 },
    });
    expect(names(lowestCostStrategy(list, longPrompt))).toEqual(["cheap-input", "cheap-output"]);
    expect(names(lowestCostStrategy(list, longAnswer))).toEqual(["cheap-output", "cheap-input"]);
  });

  it("keeps the priority order between equal costs", () => {
    const pricing = { inputPer1M: 1, outputPer1M: 1 };
    const list = candidates([
      { name: "first", model: { pricing } },
      { name: "second", model: { pricing } },
    ]);
    expect(names(lowestCostStrategy(list, strategyContext()))).toEqual(["first", "second"]);
  });

  it("estimates cost from the prompt and max_tokens, or the assumed output when unset", () => {
    const m = model({ pricing: { inputPer1M: 2, outputPer1M: 8 } });
    expect(estimatedCost(m, { ...CHAT_NEEDS, inputTokens: 1000, maxOutputTokens: 500 })).toBeCloseTo(
      (1000 * 2 + 500 * 8) / 1e6,
    );
    expect(estimatedCost(m, { ...CHAT_NEEDS, inputTokens: 1000 })).toBeCloseTo(
      (1000 * 2 + ASSUMED_OUTPUT_TOKENS * 8) / 1e6,
    );
    expect(
      estimatedCost(m, { kind: "embedding", contextTokens: 10, inputTokens: 1000, tools: false }),
    ).toBeCloseTo(0.002);
    expect(estimatedCost(model(), CHAT_NEEDS)).toBeUndefined();
  });
});
