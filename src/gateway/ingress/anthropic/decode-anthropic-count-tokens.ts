import type { ChatRequest } from "../../canonical/chat.js";
import { decodeAnthropicRequest } from "./decode-anthropic-request.js";

export interface DecodedCountTokensRequest {
  /** The model name the client asked for (a route's model or alias). */
  model: string;
  request: Omit<ChatRequest, "model">;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Decodes a `POST /v1/messages/count_tokens` body: a Messages body without max_tokens and
 * stream. It goes through the Messages decoder, so it is checked and converted exactly as
 * `/v1/messages` would; the count does not depend on max_tokens or stream, so placeholders
 * stand in for them and the output limit is dropped again.
 */
export function decodeAnthropicCountTokensRequest(body: unknown): DecodedCountTokensRequest {
  const decoded = decodeAnthropicRequest(isObject(body) ? { ...body, max_tokens: 1, stream: false } : body);
  return { model: decoded.model, request: { ...decoded.request, maxTokens: undefined } };
}
