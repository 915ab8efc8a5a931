import { BUDGET_EPSILON } from "./shared-state.js";

/**
 * Budget arithmetic, kept pure so both backends decide alike. The Redis backend runs the same
 * steps in Lua (redis-scripts.ts); keep the two in step.
 *
 * A budget is refused once its spend reaches the limit, and otherwise admits a request only if
 * its worst-case cost fits beside the spend and what requests in flight already hold.
 */
export function budgetFits(spent: number, held: number, limit: number, amount: number): boolean {
  return spent < limit && spent + Math.max(0, held) + amount <= limit + BUDGET_EPSILON;
}
