import type { ChatRequest, ChatResponse, ChatStreamEvent } from "../canonical/chat.js";
import type { GatewayError } from "../../shared/errors.js";

/** A client request decoded into the canonical model, before routing picks an upstream model. */
export interface DecodedChatRequest {
  /** The model name the client asked for (a route's model or alias). */
  model: string;
  stream: boolean;
  /** Whether the client wants usage reported in the stream (OpenAI's stream_options.include_usage). */
  includeUsage: boolean;
  request: Omit<ChatRequest, "model">;
  /** Request fields the format repeats in its answer (the Responses API echoes its parameters). */
  echo?: Record<string, unknown>;
}

export interface ResponseMeta {
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model name reported to the client: the name it asked for. */
  model: string;
  includeUsage: boolean;
  /** The gateway's estimate of the prompt's tokens, for formats that announce them up front. */
  promptTokensEstimate?: number;
  echo?: Record<string, unknown>;
}

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * One client-facing API format (OpenAI chat completions, Anthropic messages). The server is
 * format-agnostic: it decodes with one of these, routes canonically, and encodes back.
 * Streams handed to encodeStream always end with a `usage` event (measured or estimated).
 */
export interface ChatIngressFormat {
  decode(body: unknown): DecodedChatRequest;
  encodeResponse(response: ChatResponse, meta: ResponseMeta): unknown;
  /** Yields complete SSE frames (`event:`/`data:` lines ending in a blank line). */
  encodeStream(events: AsyncIterable<ChatStreamEvent>, meta: ResponseMeta): AsyncIterable<string>;
  renderError(error: GatewayError): RenderedError;
  /** The SSE frames that end a stream broken after its first byte (`meta` as given to encodeStream). */
  renderStreamError(error: GatewayError, meta: ResponseMeta): string;
}
