import { z } from "zod";
import { objectMetaSchema } from "./common.js";

/** core/v1 Secret: every field it has, so a misspelt one is caught as the API server would. */
export const secretSchema = z.object({
  apiVersion: z.literal("v1"),
  kind: z.literal("Secret"),
  metadata: objectMetaSchema,
  type: z.string().optional(),
  immutable: z.boolean().optional(),
  data: z.record(z.string(), z.string()).optional(),
  stringData: z.record(z.string(), z.string()).optional(),
});

export type Secret = z.infer<typeof secretSchema>;

/** Returns a Secret key's value, preferring stringData as the API server would after merging. */
export function readSecretKey(secret: Secret, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  const encoded = secret.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8");
}
