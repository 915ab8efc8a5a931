import { z } from "zod";
import type { ChatRequest } from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import {
  convertToAnthropicRequest,
  FALLBACK_MAX_TOKENS,
  type AnthropicRequestOptions,
} from "./convert-to-anthropic-request.js";

/**
 * Anthropic's token counting (`POST /v1/messages/count_tokens`, and Claude on Vertex's
 * `count-tokens:rawPredict`): a Messages body without the generation settings, answered with
 * `{"input_tokens": N}`.
 */

/** What count_tokens accepts of a Messages body; it rejects max_tokens, stream and sampling as extra inputs. */
const COUNTED_FIELDS = [
  "anthropic_version",
  "model",
  "system",
  "messages",
  "tools",
  "tool_choice",
  "output_config",
] as const;

/** The count_tokens body for a canonical request, converted exactly as a Messages call would send it. */
export function toAnthropicCountTokensBody(
  request: ChatRequest,
  options: Omit<AnthropicRequestOptions, "stream" | "defaultMaxTokens">,
): Record<string, unknown> {
  const messagesBody = convertToAnthropicRequest(request, {
    ...options,
    stream: false,
    defaultMaxTokens: FALLBACK_MAX_TOKENS,
  });
  const body: Record<string, unknown> = {};
  for (const field of COUNTED_FIELDS) {
    if (messagesBody[field] !== undefined) body[field] = messagesBody[field];
  }
  return body;
}

const countSchema = z.object({ input_tokens: z.number().int().nonnegative() });

export function readAnthropicInputTokens(body: unknown, providerName: string): number {
  const parsed = countSchema.safeParse(body);
  if (!parsed.success) {
    throw new GatewayError(
      "upstream_unavailable",
      `${providerName} answered count_tokens without a whole input_tokens count`,
      { provider: providerName },
    );
  }
  return parsed.data.input_tokens;
}
