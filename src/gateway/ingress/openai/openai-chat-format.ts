import type { ChatIngressFormat } from "../chat-ingress-format.js";
import { decodeOpenAiChatRequest } from "./decode-openai-chat-request.js";
import { encodeOpenAiChatResponse } from "./encode-openai-chat-response.js";
import { encodeOpenAiChatStream } from "./encode-openai-chat-stream.js";
import { renderOpenAiError, renderOpenAiStreamError } from "./openai-error.js";

export const openAiChatFormat: ChatIngressFormat = {
  decode: decodeOpenAiChatRequest,
  encodeResponse: encodeOpenAiChatResponse,
  encodeStream: encodeOpenAiChatStream,
  renderError: renderOpenAiError,
  renderStreamError: renderOpenAiStreamError,
};
