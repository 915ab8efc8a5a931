import type { ChatRequest, ChatResponse, ChatStreamEvent } from "../../canonical/chat.js";
import type { EmbeddingRequest, EmbeddingResponse } from "../../canonical/embeddings.js";
import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import { GatewayError } from "../../../shared/errors.js";
import type { CallContext, ProviderAdapter } from "../provider-adapter.js";
import { readJson, readText, sendUpstream, type UpstreamResponse } from "../upstream-http.js";
import { readSse } from "../sse-reader.js";
import { convertToOpenAiRequest, type OpenAiRequestOptions } from "./convert-to-openai-request.js";
import { mapOpenAiResponse } from "./map-openai-response.js";
import { mapOpenAiStream } from "./map-openai-stream.js";
import { mapOpenAiError } from "./map-openai-error.js";
import type { OpenAiChatCompletion, OpenAiEmbeddingResponse } from "./openai-wire-types.js";

/**
 * The OpenAI wire protocol, shared by the openai, azure-openai and openai-compatible adapters,
 * which differ only in URLs, auth headers and a few request options.
 */
export interface OpenAiWireOptions {
  provider: CompiledProvider;
  providerName: string;
  /** URL for an operation on a model (Azure puts the deployment in the path). */
  url(operation: "chat/completions" | "embeddings" | "models", upstreamModel?: string): string;
  /** Auth headers, fetched per request so rotated tokens are picked up. */
  authHeaders(): Promise<Record<string, string>>;
  request: Omit<OpenAiRequestOptions, "stream">;
  /** Secret values to redact from upstream error text. */
  secrets(): readonly string[];
}

function decodeEmbedding(value: number[] | string): number[] {
  if (Array.isArray(value)) return value;
  const bytes = Buffer.from(value, "base64");
  return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
}

export function createOpenAiWireAdapter(options: OpenAiWireOptions): ProviderAdapter {
  const { providerName } = options;

  async function post(operation: "chat/completions" | "embeddings", model: string, body: unknown, ctx: CallContext, stream: boolean): Promise<UpstreamResponse> {
    const res = await sendUpstream(
      {
        url: options.url(operation, model),
        headers: {
          "content-type": "application/json",
          accept: stream ? "text/event-stream" : "application/json",
          ...(await options.authHeaders()),
        },
        body: JSON.stringify(body),
        providerName,
      },
      ctx,
    );
    if (res.status >= 300) {
      const text = await readText(res, providerName, ctx.signal).catch(() => "");
      throw mapOpenAiError(res.status, res.headers, text, providerName, options.secrets());
    }
    return res;
  }

  return {
    provider: options.provider,

    async chat(request: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
      const body = convertToOpenAiRequest(request, { ...options.request, stream: false });
      const res = await post("chat/completions", request.model, body, ctx, false);
      return mapOpenAiResponse(await readJson<OpenAiChatCompletion>(res, providerName, ctx.signal), providerName);
    },

    async chatStream(request: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChatStreamEvent>> {
      const body = convertToOpenAiRequest(request, { ...options.request, stream: true });
      const res = await post("chat/completions", request.model, body, ctx, true);
      return mapOpenAiStream(readSse(res, providerName, ctx.signal), providerName);
    },

    async embed(request: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
      const body: Record<string, unknown> = { input: request.input, encoding_format: "base64" };
      if (options.request.includeModel) body.model = request.model;
      if (request.dimensions !== undefined) body.dimensions = request.dimensions;
      if (request.user !== undefined) body.user = request.user;
      const res = await post("embeddings", request.model, body, ctx, false);
      const json = await readJson<OpenAiEmbeddingResponse>(res, providerName, ctx.signal);
      if (!Array.isArray(json.data)) {
        throw new GatewayError("upstream_unavailable", `${providerName} returned an embeddings body without data`);
      }
      const vectors = [...json.data].sort((a, b) => a.index - b.index).map((item) => decodeEmbedding(item.embedding));
      const promptTokens = json.usage?.prompt_tokens;
      return {
        model: json.model ?? request.model,
        vectors,
        usage: promptTokens === undefined ? undefined : { inputTokens: promptTokens, estimated: false },
      };
    },

    async probe(ctx: CallContext): Promise<void> {
      const res = await sendUpstream(
        { url: options.url("models"), method: "GET", headers: await options.authHeaders(), providerName },
        ctx,
      );
      const text = await readText(res, providerName, ctx.signal);
      if (res.status >= 300) throw mapOpenAiError(res.status, res.headers, text, providerName, options.secrets());
    },
  };
}
