import { describe, expect, it } from "vitest";
import { priorityStrategy } from "../../../../../src/gateway/routing/strategies/priority-strategy.js";
import { candidates, names, strategyContext } from "../routing-fixtures.js";

describe("priority strategy", () => {
  it("keeps the priority order, every time", () => {
    const list = candidates([{ name: "a" }, { name: "b" }, { name: "c" }]);
    const ctx = strategyContext({ random: () => 0.99 });
    expect(names(priorityStrategy(list, ctx))).toEqual(["a", "b", "c"]);
    expect(names(priorityStrategy(list, ctx))).toEqual(["a", "b", "c"]);
  });
});
