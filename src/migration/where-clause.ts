import type { WhereCondition, WhereOperator } from "../shared/schemas/embedding-migration.js";
import { quoteIdentifier } from "./sql-identifiers.js";

const COMPARISONS: Partial<Record<WhereOperator, string>> = {
  eq: "=",
  ne: "<>",
  lt: "<",
  le: "<=",
  gt: ">",
  ge: ">=",
};

export interface SqlFragment {
  /** SQL text using $n placeholders numbered from the `firstParam` given. */
  text: string;
  params: unknown[];
}

/**
 * The spec's `where` conditions as one SQL condition, ANDed. Columns are quoted identifiers,
 * values bound parameters (PostgreSQL reads them as the column's type), so nothing a user
 * writes is spliced into SQL. `TRUE` without conditions.
 */
export function whereClause(
  conditions: readonly WhereCondition[] | undefined,
  firstParam: number,
): SqlFragment {
  const parts: string[] = [];
  const params: unknown[] = [];
  const next = (value: unknown) => {
    params.push(value);
    return `$${firstParam + params.length - 1}`;
  };
  for (const condition of conditions ?? []) {
    const column = quoteIdentifier(condition.column);
    if (condition.op === "isNull") parts.push(`${column} IS NULL`);
    else if (condition.op === "isNotNull") parts.push(`${column} IS NOT NULL`);
    else if (condition.op === "in") parts.push(`${column} = ANY(${next(condition.values ?? [])})`);
    else parts.push(`${column} ${COMPARISONS[condition.op]} ${next(condition.value)}`);
  }
  return { text: parts.length > 0 ? parts.map((p) => `(${p})`).join(" AND ") : "TRUE", params };
}
