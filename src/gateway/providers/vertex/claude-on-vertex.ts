import type { ChatRequest } from "../../canonical/chat.js";
import type { GatewayError } from "../../../shared/errors.js";
import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import {
  convertToAnthropicRequest,
  resolveAnthropicMaxTokens,
} from "../anthropic/convert-to-anthropic-request.js";
import { mapAnthropicError } from "../anthropic/map-anthropic-error.js";
import { toAnthropicCountTokensBody } from "../anthropic/anthropic-count-tokens.js";
import { mapGoogleError } from "./map-google-error.js";

/** Claude on Vertex speaks the Messages API through rawPredict, versioned in the body. */
export const VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16";

export function isClaudeModel(upstreamModel: string): boolean {
  return upstreamModel.startsWith("claude");
}

export function convertToClaudeOnVertexRequest(
  request: ChatRequest,
  provider: CompiledProvider,
  stream: boolean,
): Record<string, unknown> {
  return convertToAnthropicRequest(request, {
    stream,
    defaultMaxTokens: resolveAnthropicMaxTokens(request, provider),
    includeModel: false,
    anthropicVersion: VERTEX_ANTHROPIC_VERSION,
    // Structured outputs are not offered for Claude on Vertex: JSON schemas become instructions.
    jsonSchema: "instruction",
  });
}

/** Body for Claude's count-tokens endpoint, which unlike rawPredict names the model in the body. */
export function toClaudeOnVertexCountTokensBody(request: ChatRequest): Record<string, unknown> {
  return toAnthropicCountTokensBody(request, {
    includeModel: true,
    anthropicVersion: VERTEX_ANTHROPIC_VERSION,
    jsonSchema: "instruction",
  });
}

/**
 * Errors from the model come in Anthropic's body; errors from Vertex's front end (auth, quota,
 * unknown model) in Google's.
 */
export function mapClaudeOnVertexError(
  status: number,
  headers: Record<string, string>,
  bodyText: string,
  providerName: string,
  secrets: readonly string[],
): GatewayError {
  let anthropicBody = false;
  try {
    anthropicBody = (JSON.parse(bodyText) as { type?: unknown }).type === "error";
  } catch {
    anthropicBody = false;
  }
  return anthropicBody
    ? mapAnthropicError(status, headers, bodyText, providerName, secrets)
    : mapGoogleError(status, headers, bodyText, providerName, secrets);
}
