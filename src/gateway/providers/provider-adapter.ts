import type { ChatRequest, ChatResponse, ChatStreamEvent } from "../canonical/chat.js";
import type { EmbeddingRequest, EmbeddingResponse } from "../canonical/embeddings.js";
import type {
  CompletionRequest,
  CompletionResponse,
  CompletionStreamEvent,
} from "../canonical/completion.js";
import type { CompiledProvider } from "../../shared/schemas/gateway-config.js";

/** Per-attempt context: cancellation and deadlines set by routing. */
export interface CallContext {
  /** Aborted when the client goes away or a deadline passes. */
  signal: AbortSignal;
  /** Deadlines for this attempt, from the provider's spec.timeouts. */
  timeouts: CompiledProvider["timeouts"];
  /** Ask the upstream for usage in streams (always on; adapters strip it where unsupported). */
  includeUsage?: boolean;
  /** A health probe: it bypasses the provider's connection pool and its queue. */
  probe?: boolean;
}

/**
 * One upstream provider. Adapters translate the canonical model to the provider's wire
 * format and back, and map every failure into a GatewayError; nothing outside
 * `providers/<type>/` branches on the provider type.
 */
export interface ProviderAdapter {
  readonly provider: CompiledProvider;
  chat(request: ChatRequest, ctx: CallContext): Promise<ChatResponse>;
  /**
   * Resolves once the upstream has accepted the request (status and headers seen), so routing
   * can still fall back on an early error; iterating yields the stream's events.
   */
  chatStream(request: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChatStreamEvent>>;
  embed(request: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse>;
  /**
   * The upstream's own count of the request's input tokens, free and unbilled (Anthropic's
   * count_tokens). Only adapters whose upstream can count have it; undefined when the request's
   * model has no counting endpoint there.
   */
  countTokens?(request: ChatRequest, ctx: CallContext): Promise<number | undefined>;
  /**
   * Text completions, only where the upstream's API has them (OpenAI's `/completions`); used for
   * models whose capabilities declare `textCompletions`.
   */
  complete?(request: CompletionRequest, ctx: CallContext): Promise<CompletionResponse>;
  completeStream?(
    request: CompletionRequest,
    ctx: CallContext,
  ): Promise<AsyncIterable<CompletionStreamEvent>>;
  /** Cheap liveness probe used by active health checks. */
  probe(ctx: CallContext): Promise<void>;
}

export type AdapterFactory = (provider: CompiledProvider) => ProviderAdapter;
