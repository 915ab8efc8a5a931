import type { ChatIngressFormat } from "../chat-ingress-format.js";
import { renderAnthropicError, renderAnthropicStreamError } from "./anthropic-error.js";
import { decodeAnthropicRequest } from "./decode-anthropic-request.js";
import { encodeAnthropicResponse } from "./encode-anthropic-response.js";
import { encodeAnthropicStream } from "./encode-anthropic-stream.js";

/** The Anthropic Messages API (`POST /v1/messages`) as a client-facing format, for any upstream. */
export const anthropicMessagesFormat: ChatIngressFormat = {
  decode: decodeAnthropicRequest,
  encodeResponse: encodeAnthropicResponse,
  encodeStream: encodeAnthropicStream,
  renderError: renderAnthropicError,
  renderStreamError: renderAnthropicStreamError,
};
