/**
 * How vectors are stored: pgvector's `vector(n)` when the extension is installed in the
 * database, PostgreSQL's own `real[]` otherwise. Both hold float32, so a vector read back
 * equals the float32 vector the gateway returned.
 */
export type VectorColumnKind = { kind: "pgvector"; typeName: string } | { kind: "real[]" };

/** The text literal PostgreSQL parses into the column type; values are bound, not spliced. */
export function vectorLiteral(kind: VectorColumnKind, vector: ArrayLike<number>): string {
  const parts = Array.from(vector, (v) => String(v));
  return kind.kind === "pgvector" ? `[${parts.join(",")}]` : `{${parts.join(",")}}`;
}

/** Parses what `column::text` returns for either kind. */
export function parseVectorText(text: string): number[] {
  const inner = text.slice(1, -1).trim();
  return inner === "" ? [] : inner.split(",").map(Number);
}
