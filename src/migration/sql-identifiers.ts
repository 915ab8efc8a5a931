import { SQL_IDENTIFIER_PATTERN, SQL_TABLE_PATTERN } from "../shared/schemas/embedding-migration.js";

/**
 * Identifiers go into SQL text (PostgreSQL cannot bind them), so each is checked against the
 * schema's pattern again and double-quoted; values never go through here, they are bound.
 */
export function quoteIdentifier(name: string): string {
  if (!SQL_IDENTIFIER_PATTERN.test(name)) throw new Error(`unsafe SQL identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** `schema.table` or `table`, each part quoted. */
export function quoteTable(name: string): string {
  if (!SQL_TABLE_PATTERN.test(name)) throw new Error(`unsafe SQL table name ${JSON.stringify(name)}`);
  return name.split(".").map(quoteIdentifier).join(".");
}

/** A table that lives beside `table`: in its schema when it names one, else on the search path. */
export function siblingTable(table: string, name: string): string {
  const parts = table.split(".");
  return parts.length === 2
    ? `${quoteIdentifier(parts[0]!)}.${quoteIdentifier(name)}`
    : quoteIdentifier(name);
}
