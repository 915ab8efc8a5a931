/**
 * How vectors are stored: pgvector's `vector(n)` when the extension is installed in the
 * database, PostgreSQL's own `real[]` otherwise. Both hold float32, so a vector read back
 * equals the float32 vector the gateway returned.
 */
export type VectorColumnKind = { kind: "pgvector"; typeName: string } | { kind: "real[]" };

/** PostgreSQL's type OID of float4, the element type of real[]. */
const FLOAT4_OID = 700;

/**
 * A batch of vectors as one flat `real[]` in PostgreSQL's binary array format (what array_recv
 * reads; `pg` sends a Buffer parameter as binary), sliced per row in SQL. Measured on 64 × 768
 * vectors: formatting them as a text literal took most of a batch's commit (~75 ms of ~95 ms on
 * the 2-core test machine); this encoding is a copy of the float32 bytes, and exact.
 */
export function flatVectorsBinary(vectors: ReadonlyArray<ArrayLike<number>>): Buffer {
  const count = vectors.reduce((sum, v) => sum + v.length, 0);
  const out = Buffer.allocUnsafe(20 + count * 8);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(0, 4); // no NULLs
  out.writeUInt32BE(FLOAT4_OID, 8);
  out.writeInt32BE(count, 12); // length of the one dimension
  out.writeInt32BE(1, 16); // lower bound
  let offset = 20;
  for (const vector of vectors) {
    for (let i = 0; i < vector.length; i++) {
      out.writeInt32BE(4, offset);
      out.writeFloatBE(vector[i]!, offset + 4);
      offset += 8;
    }
  }
  return out;
}
