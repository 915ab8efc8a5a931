import type { ChatRequest, ChatResponse, ChatStreamEvent } from "../../canonical/chat.js";
import type { EmbeddingRequest, EmbeddingResponse } from "../../canonical/embeddings.js";
import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import { GatewayError } from "../../../shared/errors.js";
import type { CallContext, ProviderAdapter } from "../provider-adapter.js";
import { readJson, readText, sendUpstream, type UpstreamResponse } from "../upstream-http.js";
import { readSse } from "../sse-reader.js";
import { mapAnthropicResponse } from "../anthropic/map-anthropic-response.js";
import { mapAnthropicStream } from "../anthropic/map-anthropic-stream.js";
import type { AnthropicMessage } from "../anthropic/anthropic-wire-types.js";
import { readAnthropicInputTokens } from "../anthropic/anthropic-count-tokens.js";
import { createVertexAuth } from "./vertex-auth.js";
import { vertexBaseUrl, vertexModelUrl, type VertexPublisher } from "./vertex-endpoint.js";
import { convertToGeminiRequest } from "./convert-to-gemini-request.js";
import { mapGeminiResponse } from "./map-gemini-response.js";
import { mapGeminiStream } from "./map-gemini-stream.js";
import { readGeminiSse } from "./read-gemini-sse.js";
import { mapGoogleError } from "./map-google-error.js";
import {
  convertToClaudeOnVertexRequest,
  isClaudeModel,
  mapClaudeOnVertexError,
  toClaudeOnVertexCountTokensBody,
  VERTEX_ANTHROPIC_VERSION,
} from "./claude-on-vertex.js";
import {
  convertToEmbeddingPredictRequest,
  embeddingBatchSize,
  mapEmbeddingPredictResponse,
} from "./vertex-embedding-predict.js";
import type { GeminiResponse, VertexEmbeddingPredictResponse } from "./vertex-wire-types.js";

type ErrorMapper = (
  status: number,
  headers: Record<string, string>,
  bodyText: string,
  providerName: string,
  secrets: readonly string[],
) => GatewayError;

/** Parallel `:predict` calls when an embedding request needs several (gemini-embedding takes one text per call). */
const EMBEDDING_CONCURRENCY = 4;

/**
 * Google Cloud Vertex AI: Gemini through generateContent, Claude through rawPredict (Messages API
 * bodies), text embeddings through predict. Authenticated with Google access tokens from a
 * service-account key (secretRef) or Application Default Credentials (workloadIdentity).
 */
export function createVertexAdapter(provider: CompiledProvider): ProviderAdapter {
  const providerName = `vertex provider ${provider.id}`;
  const auth = createVertexAuth(provider, providerName);
  const region = provider.region ?? "";
  const project = provider.project ?? "";
  // The host; a trailing /v1 is dropped since model URLs carry the version themselves.
  const base = (provider.endpoint ?? vertexBaseUrl(region)).replace(/\/+$/, "").replace(/\/v1$/, "");

  function modelUrl(publisher: VertexPublisher, model: string, method: string): string {
    if (!project || !region) {
      const message = `LLMProvider ${provider.id} of type vertex needs spec.project and spec.region`;
      throw new GatewayError("upstream_unavailable", message, { provider: providerName });
    }
    return vertexModelUrl(base, project, region, publisher, model, method);
  }

  async function post(
    url: string,
    body: unknown,
    ctx: CallContext,
    stream: boolean,
    mapError: ErrorMapper,
  ): Promise<UpstreamResponse> {
    const res = await sendUpstream(
      {
        url,
        headers: {
          "content-type": "application/json",
          accept: stream ? "text/event-stream" : "application/json",
          ...(await auth.headers(ctx.signal)),
        },
        body: JSON.stringify(body),
        providerName,
        provider,
      },
      ctx,
    );
    if (res.status >= 300) {
      const text = await readText(res, providerName, ctx.signal).catch(() => "");
      throw mapError(res.status, res.headers, text, providerName, auth.secrets());
    }
    return res;
  }

  async function embedBatch(
    model: string,
    texts: string[],
    dimensions: number | undefined,
    ctx: CallContext,
  ) {
    const res = await post(
      modelUrl("google", model, "predict"),
      convertToEmbeddingPredictRequest(texts, dimensions),
      ctx,
      false,
      mapGoogleError,
    );
    const body = await readJson<VertexEmbeddingPredictResponse>(res, providerName, ctx.signal);
    return mapEmbeddingPredictResponse(body, texts.length, providerName);
  }

  return {
    provider,

    async chat(request: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
      if (isClaudeModel(request.model)) {
        const body = convertToClaudeOnVertexRequest(request, provider, false);
        const res = await post(
          modelUrl("anthropic", request.model, "rawPredict"),
          body,
          ctx,
          false,
          mapClaudeOnVertexError,
        );
        return mapAnthropicResponse(
          await readJson<AnthropicMessage>(res, providerName, ctx.signal),
          providerName,
        );
      }
      const res = await post(
        modelUrl("google", request.model, "generateContent"),
        convertToGeminiRequest(request),
        ctx,
        false,
        mapGoogleError,
      );
      return mapGeminiResponse(
        await readJson<GeminiResponse>(res, providerName, ctx.signal),
        request.model,
        providerName,
      );
    },

    async chatStream(request: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChatStreamEvent>> {
      if (isClaudeModel(request.model)) {
        const body = convertToClaudeOnVertexRequest(request, provider, true);
        const res = await post(
          modelUrl("anthropic", request.model, "streamRawPredict"),
          body,
          ctx,
          true,
          mapClaudeOnVertexError,
        );
        return mapAnthropicStream(readSse(res, providerName, ctx.signal), providerName, auth.secrets());
      }
      // Without alt=sse Vertex streams one JSON array, which an SSE reader would never see events in.
      const url = `${modelUrl("google", request.model, "streamGenerateContent")}?alt=sse`;
      const res = await post(url, convertToGeminiRequest(request), ctx, true, mapGoogleError);
      return mapGeminiStream(readGeminiSse(res, providerName, ctx.signal), providerName);
    },

    /** Claude models only, through Claude's free count-tokens endpoint. */
    async countTokens(request: ChatRequest, ctx: CallContext): Promise<number | undefined> {
      if (!isClaudeModel(request.model)) return undefined;
      const res = await post(
        modelUrl("anthropic", "count-tokens", "rawPredict"),
        toClaudeOnVertexCountTokensBody(request),
        ctx,
        false,
        mapClaudeOnVertexError,
      );
      return readAnthropicInputTokens(await readJson<unknown>(res, providerName, ctx.signal), providerName);
    },

    async embed(request: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
      const size = embeddingBatchSize(request.model);
      const batches: string[][] = [];
      for (let i = 0; i < request.input.length; i += size) batches.push(request.input.slice(i, i + size));
      const results = new Array<Awaited<ReturnType<typeof embedBatch>>>(batches.length);
      let next = 0;
      let failed = false;
      const worker = async (): Promise<void> => {
        while (next < batches.length && !failed) {
          const index = next++;
          try {
            results[index] = await embedBatch(request.model, batches[index]!, request.dimensions, ctx);
          } catch (err) {
            failed = true;
            throw err;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(EMBEDDING_CONCURRENCY, batches.length) }, worker));
      const counted = results.every((result) => result.tokens !== undefined);
      const tokens = counted ? results.reduce((sum, result) => sum + result.tokens!, 0) : undefined;
      return {
        model: request.model,
        vectors: results.flatMap((result) => result.vectors),
        usage: tokens === undefined ? undefined : { inputTokens: tokens, estimated: false },
      };
    },

    /**
     * countTokens on one of the provider's models: authenticated, checks the project, region and
     * model access, and is free. Claude-only providers use Claude's count-tokens endpoint.
     */
    async probe(ctx: CallContext): Promise<void> {
      const google = provider.models.find((m) => !isClaudeModel(m.upstreamModel));
      let url: string;
      let body: unknown;
      let mapError: ErrorMapper = mapGoogleError;
      if (google) {
        url = modelUrl("google", google.upstreamModel, "countTokens");
        body =
          google.kind === "embedding"
            ? { instances: [{ content: "ping" }] }
            : { contents: [{ role: "user", parts: [{ text: "ping" }] }] };
      } else {
        // Every model is Claude (a provider always has at least one model).
        url = modelUrl("anthropic", "count-tokens", "rawPredict");
        body = {
          anthropic_version: VERTEX_ANTHROPIC_VERSION,
          model: provider.models[0]!.upstreamModel,
          messages: [{ role: "user", content: "ping" }],
        };
        mapError = mapClaudeOnVertexError;
      }
      const res = await post(url, body, ctx, false, mapError);
      await readText(res, providerName, ctx.signal);
    },
  };
}
