import type { EmbeddingMigrationSpec } from "../shared/schemas/embedding-migration.js";
import { quoteIdentifier, quoteTable, siblingTable } from "./sql-identifiers.js";
import { whereClause, type SqlFragment } from "./where-clause.js";

/** The quoted names every store statement uses, checked once. */
export interface StoreLayout {
  table: string;
  id: string;
  text: string;
  target: string;
  read: string;
  retired: string;
  /** Checkpoints: one row per migration. */
  state: string;
  /** Rows that failed for good: (migration, row id, reason). */
  failures: string;
  /** The spec's filter, its parameters numbered from `firstParam`. */
  where(firstParam: number): SqlFragment;
  /** Unquoted names, for catalog look-ups and messages. */
  names: { table: string; target: string; read: string; retired: string };
}

export const STATE_TABLE = "switchboard_migrations";
export const FAILURES_TABLE = "switchboard_migration_failures";

export function storeLayout(spec: EmbeddingMigrationSpec): StoreLayout {
  const pg = spec.store.postgres;
  return {
    table: quoteTable(pg.table),
    id: quoteIdentifier(pg.idColumn),
    text: quoteIdentifier(pg.textColumn),
    target: quoteIdentifier(pg.targetColumn),
    read: quoteIdentifier(pg.readColumn),
    retired: quoteIdentifier(pg.retiredColumn),
    state: siblingTable(pg.table, STATE_TABLE),
    failures: siblingTable(pg.table, FAILURES_TABLE),
    where: (firstParam) => whereClause(pg.where, firstParam),
    names: { table: pg.table, target: pg.targetColumn, read: pg.readColumn, retired: pg.retiredColumn },
  };
}
