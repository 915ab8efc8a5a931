import { describe, expect, it } from "vitest";
import { roundRobinStrategy } from "../../../../../src/gateway/routing/strategies/round-robin-strategy.js";
import { candidates, names, strategyContext } from "../routing-fixtures.js";

describe("round-robin strategy", () => {
  it("starts each request one target further along and keeps the others as fallbacks in turn", () => {
    const list = candidates([{ name: "a" }, { name: "b" }, { name: "c" }]);
    const ctx = strategyContext();
    expect(names(roundRobinStrategy(list, ctx))).toEqual(["a", "b", "c"]);
    expect(names(roundRobinStrategy(list, ctx))).toEqual(["b", "c", "a"]);
    expect(names(roundRobinStrategy(list, ctx))).toEqual(["c", "a", "b"]);
    expect(names(roundRobinStrategy(list, ctx))).toEqual(["a", "b", "c"]);
  });

  it("leaves a single target alone without using a turn", () => {
    let turns = 0;
    const ctx = strategyContext({ nextTurn: () => turns++ });
    expect(names(roundRobinStrategy(candidates([{ name: "only" }]), ctx))).toEqual(["only"]);
    expect(turns).toBe(0);
  });
});
