import type { IncomingHttpHeaders } from "node:http";

/**
 * The API key or token a client presented: `Authorization: Bearer <key>` (what OpenAI SDKs send),
 * or on the Anthropic Messages API also `x-api-key` (what Anthropic SDKs send).
 */
export function presentedCredential(
  headers: IncomingHttpHeaders,
  acceptXApiKey: boolean,
): string | undefined {
  const authorization = headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const xApiKey = headers["x-api-key"];
  if (acceptXApiKey && typeof xApiKey === "string" && xApiKey.trim() !== "") return xApiKey.trim();
  return undefined;
}
