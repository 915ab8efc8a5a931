import type { ClientBase } from "pg";
import type { StoreLayout } from "./store-layout.js";

export type CutoverResult = { cutoverAt: Date } | { missingRows: number };

/**
 * The store's side of the cutover, in one transaction: with the table locked, check that
 * every row in scope has its new vector (or is recorded as failed), then rename readColumn to
 * retiredColumn and targetColumn to readColumn and record the time. Readers see either the old
 * column or the new one, never a mix; a crash before COMMIT leaves the store as it was. The
 * lock wait is bounded so a long-running query delays the cutover rather than queueing every
 * reader behind it; the caller retries.
 */
export async function cutOverStore(
  client: ClientBase,
  layout: StoreLayout,
  key: string,
  lockTimeoutMs: number,
): Promise<CutoverResult> {
  const { table, id, target, read, retired, state, failures } = layout;
  await client.query("BEGIN");
  try {
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.round(lockTimeoutMs)}ms`]);
    await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    const where = layout.where(2);
    const { rows } = await client.query<{ missing: string }>(
      `SELECT count(*) AS missing FROM ${table} t
        WHERE ${target} IS NULL AND ${where.text}
          AND NOT EXISTS (SELECT 1 FROM ${failures} f WHERE f.migration = $1 AND f.row_id = t.${id}::text)`,
      [key, ...where.params],
    );
    const missing = Number(rows[0]!.missing);
    if (missing > 0) {
      await client.query("ROLLBACK");
      return { missingRows: missing };
    }
    await client.query(`ALTER TABLE ${table} RENAME COLUMN ${read} TO ${retired}`);
    await client.query(`ALTER TABLE ${table} RENAME COLUMN ${target} TO ${read}`);
    const done = await client.query<{ cutover_at: Date }>(
      `UPDATE ${state} SET cutover_at = now() WHERE migration = $1 RETURNING cutover_at`,
      [key],
    );
    await client.query("COMMIT");
    return { cutoverAt: done.rows[0]!.cutover_at };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
