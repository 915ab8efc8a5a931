import { canonicalJson } from "../../shared/canonical-json.js";
import { sha256Hex } from "../../shared/digest.js";

/** sha256 of the canonical JSON: the cache key of an exact-match request. */
export function cacheKeyOf(material: unknown): string {
  return sha256Hex(canonicalJson(material));
}
