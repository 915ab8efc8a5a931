import { createHash } from "node:crypto";

/** sha256 hex: of presented keys and tokens, snapshot bytes, config and cache material. */
export function sha256Hex(value: string | Uint8Array): string {
  return createHash("sha256").update(value).digest("hex");
}
