import { describe, expect, it } from "vitest";
import {
  EXPLORATION_RATE,
  leastLatencyStrategy,
} from "../../../../../src/gateway/routing/strategies/least-latency-strategy.js";
import { candidates, names, strategyContext } from "../routing-fixtures.js";

describe("least-latency strategy", () => {
  const list = candidates([{ name: "slow" }, { name: "fast" }, { name: "mid" }]);
  const ewma: Record<string, number | undefined> = { slow: 900, fast: 100, mid: 400 };
  const latencyMs = (c: { provider: { name: string } }) => ewma[c.provider.name];

  it("orders by latency EWMA, fastest first", () => {
    const ctx = strategyContext({ latencyMs, random: () => 0.9 });
    expect(names(leastLatencyStrategy(list, ctx))).toEqual(["fast", "mid", "slow"]);
  });

  it("tries an unmeasured target first so it gets measured (optimistic start)", () => {
    const withNew = candidates([{ name: "slow" }, { name: "fast" }, { name: "new" }]);
    const ctx = strategyContext({ latencyMs: (c) => ewma[c.provider.name], random: () => 0.9 });
    expect(names(leastLatencyStrategy(withNew, ctx))).toEqual(["new", "fast", "slow"]);
  });

  it("explores: a small share of requests starts with another target", () => {
    // First random() below the rate explores; the second picks among the non-fastest.
    const draws = [EXPLORATION_RATE / 2, 0.99];
    const ctx = strategyContext({ latencyMs, random: () => draws.shift()! });
    expect(names(leastLatencyStrategy(list, ctx))).toEqual(["slow", "fast", "mid"]);
  });

  it("lets a recovered target win its traffic back once exploration measures it again", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const measured: Record<string, number> = { a: 5000, b: 300 };
    const alpha = 0.2;
    const pair = candidates([{ name: "a" }, { name: "b" }]);
    const ctx = strategyContext({ latencyMs: (c) => measured[c.provider.name], random });
    let aFirst = 0;
    for (let i = 0; i < 400; i++) {
      const first = names(leastLatencyStrategy(pair, ctx))[0]!;
      // "a" has recovered and now answers in 50 ms; "b" still takes 300 ms.
      const observed = first === "a" ? 50 : 300;
      measured[first] = measured[first]! + alpha * (observed - measured[first]!);
      if (i >= 300 && first === "a") aFirst++;
    }
    expect(aFirst).toBeGreaterThan(90);
  });

  it("explores only when there is something to choose between", () => {
    const ctx = strategyContext({ latencyMs, random: () => 0 });
    expect(names(leastLatencyStrategy(candidates([{ name: "only" }]), ctx))).toEqual(["only"]);
  });
});
