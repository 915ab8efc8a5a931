export type BudgetPeriod = "hour" | "day" | "month";

/** The calendar period (UTC) a budget is counted in: an hour, a day, or a month. */
export function budgetWindow(period: BudgetPeriod, now: number): { start: number; end: number } {
  const d = new Date(now);
  const [y, m, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
  switch (period) {
    case "hour":
      return { start: Date.UTC(y, m, day, h), end: Date.UTC(y, m, day, h + 1) };
    case "day":
      return { start: Date.UTC(y, m, day), end: Date.UTC(y, m, day + 1) };
    case "month":
      return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
  }
}
