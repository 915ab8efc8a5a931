import { timingSafeEqual } from "node:crypto";

/** Compares two sha256 hex digests in constant time (no early exit on the first differing byte). */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === 32 && right.length === 32 && timingSafeEqual(left, right);
}
