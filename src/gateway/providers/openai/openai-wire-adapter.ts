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
import { decodeOpenAiEmbedding } from "./decode-openai-embedding.js";
import {
  applyFieldSupport,
  initialFieldSupport,
  learnRejection,
  rejectedField,
  type FieldSupport,
} from "./request-field-support.js";
import type { OpenAiChatCompletion, OpenAiEmbeddingResponse } from "./openai-wire-types.js";
import type { CompletionRequest } from "../../canonical/completion.js";
import {
  convertToOpenAiCompletionRequest,
  mapOpenAiCompletion,
  mapOpenAiCompletionStream,
  type OpenAiTextCompletion,
} from "./openai-text-completions.js";

/**
 * The OpenAI wire protocol, shared by the openai, azure-openai and openai-compatible adapters,
 * which differ only in URLs, auth headers and a few request options.
 */
export interface OpenAiWireOptions {
  provider: CompiledProvider;
  providerName: string;
  /** URL for an operation on a model (Azure puts the deployment in the path). */
  url(operation: Operation | "models", upstreamModel?: string): string;
  /** Auth headers, fetched per request so rotated keys and refreshed tokens are picked up. */
  authHeaders(signal: AbortSignal): Promise<Record<string, string>>;
  request: Omit<OpenAiRequestOptions, "stream">;
  /** `base64` is a quarter of the JSON size; some compatible servers only know `float`. */
  embeddingEncoding: "base64" | "float";
  /** Secret values to redact from upstream error text. */
  secrets(): readonly string[];
  /** The upstream serves OpenAI's legacy `/completions` (for models that declare it). */
  textCompletions?: boolean;
}

type Operation = "chat/completions" | "completions" | "embeddings";

export function createOpenAiWireAdapter(options: OpenAiWireOptions): ProviderAdapter {
  const { providerName } = options;
  const fieldSupport = new Map<string, FieldSupport>();

  function supportFor(model: string): FieldSupport {
    let support = fieldSupport.get(model);
    if (!support) {
      support = initialFieldSupport();
      fieldSupport.set(model, support);
    }
    return support;
  }

  async function post(
    operation: Operation,
    model: string,
    body: unknown,
    ctx: CallContext,
    stream: boolean,
  ): Promise<UpstreamResponse> {
    const res = await sendUpstream(
      {
        url: options.url(operation, model),
        headers: {
          "content-type": "application/json",
          accept: stream ? "text/event-stream" : "application/json",
          ...(await options.authHeaders(ctx.signal)),
        },
        body: JSON.stringify(body),
        providerName,
        provider: options.provider,
      },
      ctx,
    );
    if (res.status >= 300) {
      const text = await readText(res, providerName, ctx.signal).catch(() => "");
      throw mapOpenAiError(res.status, res.headers, text, providerName, options.secrets());
    }
    return res;
  }

  /** Posts a chat request, retrying once without a field the upstream said it does not accept. */
  async function postChat(
    request: ChatRequest,
    ctx: CallContext,
    stream: boolean,
  ): Promise<UpstreamResponse> {
    const support = supportFor(request.model);
    const converted = convertToOpenAiRequest(request, { ...options.request, stream });
    const body = applyFieldSupport(converted, support);
    try {
      return await post("chat/completions", request.model, body, ctx, stream);
    } catch (err) {
      const field = rejectedField(err, body);
      if (!field) throw err;
      learnRejection(support, field);
      return post("chat/completions", request.model, applyFieldSupport(converted, support), ctx, stream);
    }
  }

  const postCompletion = (request: CompletionRequest, ctx: CallContext, stream: boolean) =>
    post(
      "completions",
      request.model,
      convertToOpenAiCompletionRequest(request, stream, options.request.streamUsage),
      ctx,
      stream,
    );

  const textCompletions: Pick<ProviderAdapter, "complete" | "completeStream"> = options.textCompletions
    ? {
        async complete(request, ctx) {
          const res = await postCompletion(request, ctx, false);
          return mapOpenAiCompletion(
            await readJson<OpenAiTextCompletion>(res, providerName, ctx.signal),
            providerName,
          );
        },
        async completeStream(request, ctx) {
          const res = await postCompletion(request, ctx, true);
          return mapOpenAiCompletionStream(
            readSse(res, providerName, ctx.signal),
            providerName,
            options.secrets(),
          );
        },
      }
    : {};

  return {
    provider: options.provider,
    ...textCompletions,

    async chat(request: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
      const res = await postChat(request, ctx, false);
      return mapOpenAiResponse(
        await readJson<OpenAiChatCompletion>(res, providerName, ctx.signal),
        providerName,
      );
    },

    async chatStream(request: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChatStreamEvent>> {
      const res = await postChat(request, ctx, true);
      return mapOpenAiStream(readSse(res, providerName, ctx.signal), providerName, options.secrets());
    },

    async embed(request: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
      const body: Record<string, unknown> = { input: request.input };
      if (options.request.includeModel) body.model = request.model;
      if (options.embeddingEncoding === "base64") body.encoding_format = "base64";
      if (request.dimensions !== undefined) body.dimensions = request.dimensions;
      if (request.user !== undefined) body.user = request.user;
      const res = await post("embeddings", request.model, body, ctx, false);
      const json = await readJson<OpenAiEmbeddingResponse>(res, providerName, ctx.signal);
      if (!Array.isArray(json.data)) {
        throw new GatewayError(
          "upstream_unavailable",
          `${providerName} returned an embeddings body without data`,
        );
      }
      const vectors = [...json.data]
        .sort((a, b) => a.index - b.index)
        .map((item) => decodeOpenAiEmbedding(item.embedding, providerName));
      const promptTokens = json.usage?.prompt_tokens;
      return {
        model: json.model ?? request.model,
        vectors,
        usage: promptTokens === undefined ? undefined : { inputTokens: promptTokens, estimated: false },
      };
    },

    async probe(ctx: CallContext): Promise<void> {
      const res = await sendUpstream(
        {
          url: options.url("models"),
          method: "GET",
          headers: await options.authHeaders(ctx.signal),
          providerName,
          provider: options.provider,
        },
        ctx,
      );
      const text = await readText(res, providerName, ctx.signal);
      if (res.status >= 300)
        throw mapOpenAiError(res.status, res.headers, text, providerName, options.secrets());
    },
  };
}
