import type { ClientBase } from "pg";
import { dropChangeTracking } from "./change-tracking.js";
import type { StoreLayout } from "./store-layout.js";

export type CutoverResult = { cutoverAt: Date; lockHeldMs: number } | { missingRows: number };

/**
 * The store's side of the cutover, in one short transaction. The caller has already verified,
 * without any lock, that every row in scope has its new vector, and pruned the changes table; so
 * with the table locked this re-checks only the rows applications inserted or edited since (the
 * changes table, joined through the primary key), then renames readColumn to retiredColumn and
 * targetColumn to readColumn, drops the change tracking and records the time. The lock is held
 * for work that does not grow with the table. Readers see the old column or the new one, never a
 * mix; a crash before COMMIT leaves the store as it was. The lock wait is bounded so a
 * long-running query delays the cutover rather than queueing every reader behind it; the caller
 * retries.
 */
export async function cutOverStore(
  client: ClientBase,
  layout: StoreLayout,
  key: string,
  lockTimeoutMs: number,
): Promise<CutoverResult> {
  const { table, id, target, read, retired, state, failures, changes } = layout;
  await client.query("BEGIN");
  try {
    await client.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.round(lockTimeoutMs)}ms`]);
    await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    const locked = performance.now();
    const where = layout.where(2);
    const { rows } = await client.query<{ missing: string }>(
      `SELECT count(*) AS missing FROM ${changes} c JOIN ${table} t ON t.${id} = c.row_id
        WHERE t.${target} IS NULL AND ${where.text}
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
    await dropChangeTracking(client, layout);
    const done = await client.query<{ cutover_at: Date }>(
      `UPDATE ${state} SET cutover_at = now() WHERE migration = $1 RETURNING cutover_at`,
      [key],
    );
    await client.query("COMMIT");
    return { cutoverAt: done.rows[0]!.cutover_at, lockHeldMs: performance.now() - locked };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
