import { describe, expect, it } from "vitest";
import { budgetWindow } from "../../../../src/gateway/limits/budget-period.js";

const at = (iso: string) => Date.parse(iso);

describe("budgetWindow", () => {
  it("counts hours, days and months in UTC calendar periods", () => {
    const now = at("2026-02-28T23:59:30.000Z");
    expect(budgetWindow("hour", now)).toEqual({
      start: at("2026-02-28T23:00:00Z"),
      end: at("2026-03-01T00:00:00Z"),
    });
    expect(budgetWindow("day", now)).toEqual({
      start: at("2026-02-28T00:00:00Z"),
      end: at("2026-03-01T00:00:00Z"),
    });
    expect(budgetWindow("month", now)).toEqual({
      start: at("2026-02-01T00:00:00Z"),
      end: at("2026-03-01T00:00:00Z"),
    });
  });

  it("rolls a December month over into the next year", () => {
    expect(budgetWindow("month", at("2026-12-15T10:00:00Z")).end).toBe(at("2027-01-01T00:00:00Z"));
  });
});
