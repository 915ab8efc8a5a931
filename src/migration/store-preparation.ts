import type { ClientBase } from "pg";
import { installChangeTracking } from "./change-tracking.js";
import { PermanentMigrationError } from "./migration-errors.js";
import type { StoreLayout } from "./store-layout.js";
import { quoteIdentifier } from "./sql-identifiers.js";
import type { VectorColumnKind } from "./vector-column.js";

interface ColumnInfo {
  name: string;
  typeName: string;
  typeSchema: string;
  isRealArray: boolean;
  typmod: number;
}

/**
 * Checks the table has the columns the spec names, creates the target column (`vector(n)`
 * with pgvector, `real[]` without), the worker's two side tables and the change tracking of
 * rows applications write meanwhile (change-tracking.ts). Adding a nullable column
 * without a default only touches the catalog, so readers are not blocked.
 * Returns how vectors are stored. Throws PermanentMigrationError (StoreSchemaInvalid) when
 * the table cannot be migrated as specified.
 */
export async function prepareStore(
  client: ClientBase,
  layout: StoreLayout,
  columnsNeeded: { id: string; text: string },
  dimensions: number,
): Promise<VectorColumnKind> {
  const invalid = (message: string) => new PermanentMigrationError("StoreSchemaInvalid", message);
  const { rows: found } = await client.query<{ oid: string | null }>(
    "SELECT to_regclass($1)::oid::text AS oid",
    [layout.table],
  );
  const oid = found[0]?.oid;
  if (!oid) throw invalid(`table ${layout.names.table} does not exist`);

  const columns = await columnsOf(client, oid);
  for (const name of [columnsNeeded.id, columnsNeeded.text, layout.names.read]) {
    if (!columns.has(name)) throw invalid(`table ${layout.names.table} has no column ${name}`);
  }
  if (columns.has(layout.names.retired)) {
    throw invalid(
      `table ${layout.names.table} already has a column ${layout.names.retired} (retiredColumn must not exist)`,
    );
  }

  const { rows: ext } = await client.query<{ schema: string }>(
    "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'",
  );
  const kind: VectorColumnKind = ext[0]
    ? { kind: "pgvector", typeName: `${quoteIdentifier(ext[0].schema)}.vector` }
    : { kind: "real[]" };

  const existing = columns.get(layout.names.target);
  if (existing) {
    checkTargetColumn(existing, kind, dimensions, layout, invalid);
  } else {
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 16000) {
      throw invalid(`target.dimensions ${dimensions} is not a vector length pgvector accepts`);
    }
    const type = kind.kind === "pgvector" ? `${kind.typeName}(${dimensions})` : "real[]";
    await client.query(`ALTER TABLE ${layout.table} ADD COLUMN IF NOT EXISTS ${layout.target} ${type}`);
  }

  await client.query(
    `CREATE TABLE IF NOT EXISTS ${layout.state} (
       migration text PRIMARY KEY,
       checkpoint text,
       done bigint NOT NULL DEFAULT 0,
       planned_rows bigint NOT NULL,
       estimated_tokens bigint NOT NULL,
       started_at timestamptz NOT NULL DEFAULT now(),
       cutover_at timestamptz
     )`,
  );
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${layout.failures} (
       migration text NOT NULL,
       row_id text NOT NULL,
       reason text NOT NULL,
       failed_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (migration, row_id)
     )`,
  );
  await installChangeTracking(client, layout);
  return kind;
}

async function columnsOf(client: ClientBase, tableOid: string): Promise<Map<string, ColumnInfo>> {
  const { rows } = await client.query<ColumnInfo>(
    `SELECT a.attname AS name, t.typname AS "typeName", n.nspname AS "typeSchema",
            a.atttypid = 'real[]'::regtype AS "isRealArray", a.atttypmod AS typmod
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped`,
    [tableOid],
  );
  return new Map(rows.map((c) => [c.name, c]));
}

function checkTargetColumn(
  column: ColumnInfo,
  kind: VectorColumnKind,
  dimensions: number,
  layout: StoreLayout,
  invalid: (message: string) => Error,
): void {
  const where = `${layout.names.table}.${layout.names.target}`;
  if (column.isRealArray) {
    if (kind.kind === "pgvector") {
      throw invalid(
        `${where} is real[] but pgvector is installed; drop it or let the worker create vector(n)`,
      );
    }
    return;
  }
  if (kind.kind === "pgvector" && column.typeName === "vector") {
    if (column.typmod > 0 && column.typmod !== dimensions) {
      throw invalid(`${where} is vector(${column.typmod}) but target.dimensions is ${dimensions}`);
    }
    return;
  }
  throw invalid(`${where} has type ${column.typeName}; it must be vector(${dimensions}) or real[]`);
}
