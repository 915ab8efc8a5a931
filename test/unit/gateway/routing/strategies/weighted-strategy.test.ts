import { describe, expect, it } from "vitest";
import { weightedStrategy } from "../../../../../src/gateway/routing/strategies/weighted-strategy.js";
import { candidates, names, strategyContext } from "../routing-fixtures.js";

describe("weighted strategy", () => {
  const list = candidates([
    { name: "a", weight: 1 },
    { name: "b", weight: 3 },
    { name: "c", weight: 0 },
  ]);

  it("picks the first target in proportion to weight, keeps the rest in priority order, and leaves weight 0 out", () => {
    // Total weight 4: [0, 1) → a, [1, 4) → b; c (weight 0) takes no traffic, not even as a fallback.
    expect(names(weightedStrategy(list, strategyContext({ random: () => 0.1 })))).toEqual(["a", "b"]);
    expect(names(weightedStrategy(list, strategyContext({ random: () => 0.3 })))).toEqual(["b", "a"]);
    expect(names(weightedStrategy(list, strategyContext({ random: () => 0.999 })))).toEqual(["b", "a"]);
  });

  it("splits traffic by weight over many requests", () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const firsts = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 4000; i++)
      firsts[names(weightedStrategy(list, strategyContext({ random })))[0] as "a" | "b" | "c"]++;
    expect(firsts.c).toBe(0);
    expect(firsts.b / 4000).toBeGreaterThan(0.7);
    expect(firsts.b / 4000).toBeLessThan(0.8);
  });

  it("falls back to the priority order when every weight is 0", () => {
    const zero = candidates([
      { name: "a", weight: 0 },
      { name: "b", weight: 0 },
    ]);
    expect(names(weightedStrategy(zero, strategyContext({ random: () => 0.9 })))).toEqual(["a", "b"]);
  });
});
