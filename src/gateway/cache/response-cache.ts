import type { ChatRequest, ChatResponse, ChatStreamEvent } from "../canonical/chat.js";
import type { EmbeddingResponse } from "../canonical/embeddings.js";
import type { CompiledRoute } from "../../shared/schemas/gateway-config.js";
import type { SharedState } from "../shared-state/shared-state.js";
import { cacheKeyOf } from "./cache-key.js";

/** A cached chat answer: the canonical response, and the stream's own events when it was streamed. */
export interface CachedChat {
  response: ChatResponse;
  events?: ChatStreamEvent[];
}

/** Larger answers are not cached: they would crowd out many small ones. */
const MAX_ENTRY_CHARS = 1024 * 1024;

/**
 * Exact-match response cache (LLMRoute spec.cache). Keys are the sha256 of the canonical request
 * with the route and its targets, never of anything secret; entries are canonical, so an answer
 * cached from an OpenAI call can be replayed to an Anthropic client, streaming or not.
 */
export class ResponseCache {
  constructor(private readonly state: SharedState) {}

  chatKey(route: CompiledRoute, request: Omit<ChatRequest, "model">): string {
    return `cache:chat:${cacheKeyOf({ route: route.id, targets: route.targets, request })}`;
  }

  embeddingKey(
    route: CompiledRoute,
    request: { input: string[]; dimensions?: number; user?: string },
  ): string {
    return `cache:embedding:${cacheKeyOf({ route: route.id, targets: route.targets, request })}`;
  }

  getChat(key: string): Promise<CachedChat | undefined> {
    return this.get<CachedChat>(key);
  }

  putChat(key: string, entry: CachedChat, ttlMs: number): Promise<void> {
    return this.put(key, entry, ttlMs);
  }

  getEmbedding(key: string): Promise<EmbeddingResponse | undefined> {
    return this.get<EmbeddingResponse>(key);
  }

  putEmbedding(key: string, response: EmbeddingResponse, ttlMs: number): Promise<void> {
    return this.put(key, response, ttlMs);
  }

  private async get<T>(key: string): Promise<T | undefined> {
    const text = await this.state.cacheGet(key);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as T;
    } catch {
      return undefined;
    }
  }

  private async put(key: string, value: unknown, ttlMs: number): Promise<void> {
    const text = JSON.stringify(value);
    if (text.length <= MAX_ENTRY_CHARS) await this.state.cacheSet(key, text, ttlMs);
  }
}
