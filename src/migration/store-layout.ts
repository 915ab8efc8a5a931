import { createHash } from "node:crypto";
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
  /** Ids of rows inserted or edited during the migration (change-tracking.ts). */
  changes: string;
  /** The row trigger that fills `changes` and its function. */
  tracking: { trigger: string; function: string };
  /** The spec's filter, its parameters numbered from `firstParam`. */
  where(firstParam: number): SqlFragment;
  /** Unquoted names, for catalog look-ups and messages. */
  names: { table: string; id: string; target: string; read: string; retired: string };
}

export const STATE_TABLE = "switchboard_migrations";
export const FAILURES_TABLE = "switchboard_migration_failures";

export function storeLayout(spec: EmbeddingMigrationSpec): StoreLayout {
  const pg = spec.store.postgres;
  // One set of tracking objects per table and target column, named within PostgreSQL's 63 characters.
  const suffix = createHash("sha256").update(`${pg.table}/${pg.targetColumn}`).digest("hex").slice(0, 12);
  return {
    table: quoteTable(pg.table),
    id: quoteIdentifier(pg.idColumn),
    text: quoteIdentifier(pg.textColumn),
    target: quoteIdentifier(pg.targetColumn),
    read: quoteIdentifier(pg.readColumn),
    retired: quoteIdentifier(pg.retiredColumn),
    state: siblingTable(pg.table, STATE_TABLE),
    failures: siblingTable(pg.table, FAILURES_TABLE),
    changes: siblingTable(pg.table, `switchboard_changes_${suffix}`),
    tracking: {
      trigger: quoteIdentifier(`switchboard_track_${suffix}`),
      function: siblingTable(pg.table, `switchboard_track_${suffix}`),
    },
    where: (firstParam) => whereClause(pg.where, firstParam),
    names: {
      table: pg.table,
      id: pg.idColumn,
      target: pg.targetColumn,
      read: pg.readColumn,
      retired: pg.retiredColumn,
    },
  };
}
