import type { ClientBase } from "pg";
import type { StoreLayout } from "./store-layout.js";

/**
 * Keeps rows that applications insert or edit while the migration runs from reaching the cutover
 * with a stale or missing new vector, and lets the cutover find them without scanning the table.
 *
 * A row trigger on the table, installed before the first row is read:
 * - an UPDATE that changes the text clears the row's targetColumn (its new vector was made from the
 *   old text; the worker's own writes only land when the text is still the one embedded, see
 *   MigrationStore.commitBatch), so the row is embedded again;
 * - any insert or update that leaves targetColumn NULL records the row's id in a changes table.
 *
 * The changes table is keyed by the table's own id type, so the cutover joins it to the table
 * through its primary key: what the cutover re-checks under the lock is the rows touched since
 * the last prune, not the table. The trigger, its function and the changes table are dropped in
 * the cutover transaction (after it, targetColumn is the column applications write themselves).
 */
export async function installChangeTracking(client: ClientBase, layout: StoreLayout): Promise<void> {
  const { table, id, text, target, changes, tracking } = layout;
  const { rows } = await client.query<{ type: string }>(
    `SELECT format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
      WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped`,
    [layout.table, layout.names.id],
  );
  const idType = rows[0]!.type;
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${changes} (row_id ${idType} PRIMARY KEY, changed_at timestamptz NOT NULL DEFAULT now())`,
  );
  // The function body is SQL text: every name in it is a checked, quoted identifier.
  await client.query(
    `CREATE OR REPLACE FUNCTION ${tracking.function}() RETURNS trigger LANGUAGE plpgsql AS $body$
     BEGIN
       IF TG_OP = 'UPDATE' AND NEW.${text} IS DISTINCT FROM OLD.${text} THEN
         NEW.${target} := NULL;
       END IF;
       IF NEW.${target} IS NULL THEN
         INSERT INTO ${changes} (row_id) VALUES (NEW.${id})
           ON CONFLICT (row_id) DO UPDATE SET changed_at = now();
       END IF;
       RETURN NEW;
     END
     $body$`,
  );
  await client.query(
    `CREATE OR REPLACE TRIGGER ${tracking.trigger} BEFORE INSERT OR UPDATE ON ${table}
       FOR EACH ROW EXECUTE FUNCTION ${tracking.function}()`,
  );
}

/** Removes the trigger, its function and the changes table; used inside the cutover transaction too. */
export async function dropChangeTracking(client: ClientBase, layout: StoreLayout): Promise<void> {
  const { table, changes, tracking } = layout;
  await client.query(`DROP TRIGGER IF EXISTS ${tracking.trigger} ON ${table}`);
  await client.query(`DROP FUNCTION IF EXISTS ${tracking.function}()`);
  await client.query(`DROP TABLE IF EXISTS ${changes}`);
}

/**
 * Forgets changed rows that have their new vector now (or failed for good, or are gone), so the
 * cutover re-checks only what changed since. A change committed after this statement's snapshot
 * is not visible to it and so is kept.
 */
export async function pruneChanges(client: ClientBase, layout: StoreLayout, key: string): Promise<void> {
  const { table, id, target, changes, failures } = layout;
  await client.query(
    `DELETE FROM ${changes} c
      WHERE NOT EXISTS (SELECT 1 FROM ${table} t WHERE t.${id} = c.row_id AND t.${target} IS NULL)
         OR EXISTS (SELECT 1 FROM ${failures} f WHERE f.migration = $1 AND f.row_id = c.row_id::text)`,
    [key],
  );
}
