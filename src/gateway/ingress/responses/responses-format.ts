import type { ChatIngressFormat } from "../chat-ingress-format.js";
import { renderOpenAiError } from "../openai/openai-error.js";
import { decodeResponsesRequest } from "./decode-responses-request.js";
import { encodeResponsesResponse } from "./encode-responses-response.js";
import { encodeResponsesStream, renderResponsesStreamError } from "./encode-responses-stream.js";

/** OpenAI's Responses API (`POST /v1/responses`), stateless, as a client-facing format for any upstream. */
export const responsesFormat: ChatIngressFormat = {
  decode: decodeResponsesRequest,
  encodeResponse: encodeResponsesResponse,
  encodeStream: encodeResponsesStream,
  renderError: renderOpenAiError,
  renderStreamError: renderResponsesStreamError,
};
