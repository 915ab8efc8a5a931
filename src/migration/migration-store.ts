import type { ClientBase } from "pg";
import type { StoreLayout } from "./store-layout.js";
import { dropChangeTracking, pruneChanges } from "./change-tracking.js";
import { prepareStore } from "./store-preparation.js";
import { flatVectorsBinary, type VectorColumnKind } from "./vector-column.js";

export interface StoreRow {
  /** The id as text (`id::text`); bound back as a parameter, PostgreSQL reads it as the id's type. */
  id: string;
  text: string | null;
}

export interface MigrationState {
  checkpoint: string | null;
  done: number;
  failed: number;
  plannedRows: number;
  estimatedTokens: number;
  startedAt: Date;
  cutoverAt: Date | null;
}

export interface RowFailure {
  id: string;
  reason: string;
}

/**
 * The migration's reads and writes on the store: rows in id order after the checkpoint, and
 * each batch's vectors, failures and new checkpoint committed in one transaction, so a worker
 * killed at any point resumes after the last committed batch and redoes at most the batch
 * in flight. Progress counters live in the same transaction, so they never drift from the rows.
 */
export class MigrationStore {
  private vectors: VectorColumnKind | undefined;

  constructor(
    private readonly client: ClientBase,
    private readonly layout: StoreLayout,
    /** Key of this migration in the side tables (namespace/name/uid). */
    private readonly key: string,
  ) {}

  /** Checks the table and creates the target column and side tables (store-preparation.ts). */
  async prepare(columns: { id: string; text: string }, dimensions: number): Promise<VectorColumnKind> {
    this.vectors = await prepareStore(this.client, this.layout, columns, dimensions);
    return this.vectors;
  }

  /** What the store recorded for this migration; undefined before its first run. */
  async state(): Promise<MigrationState | undefined> {
    const { rows: exists } = await this.client.query<{ oid: string | null }>(
      "SELECT to_regclass($1)::oid::text AS oid",
      [this.layout.state],
    );
    if (!exists[0]?.oid) return undefined;
    const { rows } = await this.client.query<{
      checkpoint: string | null;
      done: string;
      failed: string;
      planned_rows: string;
      estimated_tokens: string;
      started_at: Date;
      cutover_at: Date | null;
    }>(
      `SELECT s.checkpoint, s.done, s.planned_rows, s.estimated_tokens, s.started_at, s.cutover_at,
              (SELECT count(*) FROM ${this.layout.failures} f WHERE f.migration = s.migration) AS failed
         FROM ${this.layout.state} s WHERE s.migration = $1`,
      [this.key],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      checkpoint: row.checkpoint,
      done: Number(row.done),
      failed: Number(row.failed),
      plannedRows: Number(row.planned_rows),
      estimatedTokens: Number(row.estimated_tokens),
      startedAt: row.started_at,
      cutoverAt: row.cutover_at,
    };
  }

  /** Rows in scope and the sum of their text lengths, for the plan. */
  async measure(): Promise<{ rows: number; characters: number }> {
    const where = this.layout.where(1);
    const { rows } = await this.client.query<{ rows: string; characters: string }>(
      `SELECT count(*) AS rows, coalesce(sum(length(${this.layout.text}::text)), 0) AS characters
         FROM ${this.layout.table} WHERE ${where.text}`,
      where.params,
    );
    return { rows: Number(rows[0]!.rows), characters: Number(rows[0]!.characters) };
  }

  /** Records the plan; a no-op when the migration already has a state row (a resumed worker). */
  async begin(plannedRows: number, estimatedTokens: number): Promise<void> {
    await this.client.query(
      `INSERT INTO ${this.layout.state} (migration, planned_rows, estimated_tokens) VALUES ($1, $2, $3)
       ON CONFLICT (migration) DO NOTHING`,
      [this.key, plannedRows, estimatedTokens],
    );
  }

  /** The next rows in id order after `after` (from the start when null). */
  async rowsAfter(after: string | null, limit: number): Promise<StoreRow[]> {
    const { table, id, text } = this.layout;
    const where = this.layout.where(after === null ? 2 : 3);
    const cursor = after === null ? "" : `t.${id} > $2 AND `;
    const params = after === null ? [limit, ...where.params] : [limit, after, ...where.params];
    // Ordered by the table's column: a bare `ORDER BY id` would sort by the text output column.
    const { rows } = await this.client.query<StoreRow>(
      `SELECT t.${id}::text AS id, t.${text}::text AS text FROM ${table} t
        WHERE ${cursor}${where.text} ORDER BY t.${id} LIMIT $1`,
      params,
    );
    return rows;
  }

  /**
   * Rows in scope still without a new vector and not recorded as failed, after `after`: rows
   * inserted behind the checkpoint, or edited after their batch, while the migration ran. With
   * `changedOnly`, only rows the change-tracking trigger recorded (an index join, no table scan).
   */
  async missingRowsAfter(after: string | null, limit: number, changedOnly = false): Promise<StoreRow[]> {
    const { table, id, text, target, failures, changes } = this.layout;
    const where = this.layout.where(after === null ? 3 : 4);
    const cursor = after === null ? "" : `t.${id} > $3 AND `;
    const params =
      after === null ? [limit, this.key, ...where.params] : [limit, this.key, after, ...where.params];
    const from = changedOnly ? `${changes} c JOIN ${table} t ON t.${id} = c.row_id` : `${table} t`;
    const { rows } = await this.client.query<StoreRow>(
      `SELECT t.${id}::text AS id, t.${text}::text AS text FROM ${from}
        WHERE ${cursor}t.${target} IS NULL AND ${where.text}
          AND NOT EXISTS (SELECT 1 FROM ${failures} f WHERE f.migration = $2 AND f.row_id = t.${id}::text)
        ORDER BY t.${id} LIMIT $1`,
      params,
    );
    return rows;
  }

  /** Forgets changed rows that are done (change-tracking.ts). */
  async pruneChanges(): Promise<void> {
    await pruneChanges(this.client, this.layout, this.key);
  }

  /** Removes the change tracking (a failed or deleted migration leaves no trigger behind). */
  async dropTracking(): Promise<void> {
    await dropChangeTracking(this.client, this.layout);
  }

  /**
   * One transaction: the batch's vectors, its failed rows and (for the main pass) the new
   * checkpoint. A vector lands only while the row still has the text it was made from: a row an
   * application edited meanwhile keeps a NULL new vector (change-tracking.ts) and is embedded
   * again. Counting `done` from the rows written keeps it exact across crashes.
   */
  async commitBatch(
    embedded: ReadonlyArray<{ id: string; text: string; vector: ArrayLike<number> }>,
    failed: readonly RowFailure[],
    checkpoint: string | undefined,
  ): Promise<number> {
    const { table, id, text, target, state, failures } = this.layout;
    const vectors = this.vectors;
    if (!vectors) throw new Error("prepare() the store before writing vectors");
    const cast = vectors.kind === "pgvector" ? vectors.typeName : "real[]";
    await this.client.query("BEGIN");
    try {
      let written = 0;
      if (embedded.length > 0) {
        const ids = embedded.map((row) => row.id);
        const dimensions = embedded[0]!.vector.length;
        // Row n's vector is elements (n-1)*d+1 .. n*d of the flat array; `id = ANY` finds the rows by index.
        const result = await this.client.query(
          `UPDATE ${table} t SET ${target} = ($2::real[])[(data.n::int - 1) * $4 + 1 : data.n::int * $4]::${cast}
             FROM unnest($1::text[], $5::text[]) WITH ORDINALITY AS data(id, body, n)
            WHERE t.${id} = ANY($3) AND t.${id}::text = data.id AND t.${text}::text = data.body`,
          [
            ids,
            flatVectorsBinary(embedded.map((row) => row.vector)),
            ids,
            dimensions,
            embedded.map((row) => row.text),
          ],
        );
        written = result.rowCount ?? 0;
      }
      if (failed.length > 0) {
        await this.client.query(
          `INSERT INTO ${failures} (migration, row_id, reason)
           SELECT $1, f.id, f.reason FROM unnest($2::text[], $3::text[]) AS f(id, reason)
           ON CONFLICT (migration, row_id) DO UPDATE SET reason = EXCLUDED.reason, failed_at = now()`,
          [this.key, failed.map((f) => f.id), failed.map((f) => f.reason)],
        );
      }
      await this.client.query(
        `UPDATE ${state} SET done = done + $2, checkpoint = coalesce($3, checkpoint) WHERE migration = $1`,
        [this.key, written, checkpoint ?? null],
      );
      await this.client.query("COMMIT");
      return written;
    } catch (err) {
      await this.client.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  }

  /** The first failed rows, oldest first, for status. */
  async failureSamples(limit: number): Promise<RowFailure[]> {
    const { rows } = await this.client.query<RowFailure>(
      `SELECT row_id AS id, reason FROM ${this.layout.failures} WHERE migration = $1
        ORDER BY failed_at, row_id LIMIT $2`,
      [this.key, limit],
    );
    return rows;
  }
}
