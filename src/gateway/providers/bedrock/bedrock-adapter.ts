import {
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  type BedrockRuntimeClient,
  type ConverseStreamOutput,
} from "@aws-sdk/client-bedrock-runtime";
import type { ChatRequest, ChatResponse, ChatStreamEvent } from "../../canonical/chat.js";
import type { EmbeddingRequest, EmbeddingResponse } from "../../canonical/embeddings.js";
import { GatewayError } from "../../../shared/errors.js";
import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import type { CallContext, ProviderAdapter } from "../provider-adapter.js";
import { resolveAnthropicMaxTokens } from "../anthropic/convert-to-anthropic-request.js";
import { bedrockClientFor } from "./bedrock-client.js";
import { bedrockSecrets, resolveBedrockAuth, type BedrockAuth } from "./bedrock-credentials.js";
import { convertToBedrockRequest } from "./convert-to-bedrock-request.js";
import { mapBedrockError } from "./map-bedrock-error.js";
import { mapBedrockResponse } from "./map-bedrock-response.js";
import { mapBedrockStream } from "./map-bedrock-stream.js";
import { mapBounded } from "./map-bounded.js";
import { parseTitanEmbedding, titanEmbeddingBody, type TitanEmbeddingResult } from "./titan-embeddings.js";

/** Titan embeds one string per call; this many calls per request run at once. */
const EMBED_CONCURRENCY = 8;

/**
 * Amazon Bedrock through the official SDK: Converse / ConverseStream for chat (one request shape
 * for every model family), InvokeModel for Titan text embeddings.
 */
export function createBedrockAdapter(provider: CompiledProvider): ProviderAdapter {
  const providerName = `bedrock provider ${provider.id}`;

  function connect(): { client: BedrockRuntimeClient; secrets: string[] } {
    const auth: BedrockAuth = resolveBedrockAuth(provider);
    return { client: bedrockClientFor(provider, auth), secrets: bedrockSecrets(provider, auth) };
  }

  /** Yields a pulled first event, then the rest, mapping SDK errors (exception frames included). */
  async function* replay(
    first: IteratorResult<ConverseStreamOutput>,
    rest: AsyncIterator<ConverseStreamOutput>,
    ctx: CallContext,
    secrets: string[],
  ): AsyncGenerator<ConverseStreamOutput> {
    let current = first;
    try {
      while (!current.done) {
        yield current.value;
        current = await rest.next();
      }
    } catch (err) {
      throw mapBedrockError(err, providerName, ctx.signal, secrets);
    } finally {
      // A consumer that stops early must release the connection.
      if (!current.done) await rest.return?.().catch(() => undefined);
    }
  }

  async function embedOne(
    client: BedrockRuntimeClient,
    model: string,
    text: string,
    dimensions: number | undefined,
    ctx: CallContext,
  ): Promise<TitanEmbeddingResult> {
    const output = await client.send(
      new InvokeModelCommand({
        modelId: model,
        contentType: "application/json",
        accept: "application/json",
        body: JSON.stringify(titanEmbeddingBody(model, text, dimensions)),
      }),
      { abortSignal: ctx.signal },
    );
    return parseTitanEmbedding(new TextDecoder().decode(output.body), providerName);
  }

  const adapter: ProviderAdapter = {
    provider,

    async chat(request: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
      const input = convertToBedrockRequest(request, resolveAnthropicMaxTokens(request, provider));
      const { client, secrets } = connect();
      try {
        const output = await client.send(new ConverseCommand(input), { abortSignal: ctx.signal });
        return mapBedrockResponse(output, request.model, providerName);
      } catch (err) {
        throw mapBedrockError(err, providerName, ctx.signal, secrets);
      }
    },

    /**
     * Resolves only after the first stream event decoded, so an exception frame at the start of
     * a 200 stream (or any earlier failure) is still a rejected promise that routing can fall
     * back on; the pulled event is replayed to the consumer. (This SDK version also reads the
     * first event inside `send`, but that is not part of its contract.)
     */
    async chatStream(request: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChatStreamEvent>> {
      const input = convertToBedrockRequest(request, resolveAnthropicMaxTokens(request, provider));
      const { client, secrets } = connect();
      let events: AsyncIterator<ConverseStreamOutput>;
      let first: IteratorResult<ConverseStreamOutput>;
      try {
        const output = await client.send(new ConverseStreamCommand(input), { abortSignal: ctx.signal });
        if (!output.stream)
          throw new GatewayError(
            "upstream_unavailable",
            `${providerName} answered ConverseStream without a stream`,
          );
        events = output.stream[Symbol.asyncIterator]();
        first = await events.next();
      } catch (err) {
        throw mapBedrockError(err, providerName, ctx.signal, secrets);
      }
      return mapBedrockStream(replay(first, events, ctx, secrets), request.model, providerName);
    },

    async embed(request: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
      const configured = provider.models.find(
        (m) => m.kind === "embedding" && m.upstreamModel === request.model,
      );
      const dimensions = request.dimensions ?? configured?.dimensions;
      // Validates the model before any call goes out.
      titanEmbeddingBody(request.model, "", dimensions);
      const { client, secrets } = connect();
      let results: TitanEmbeddingResult[];
      try {
        results = await mapBounded(request.input, EMBED_CONCURRENCY, (text) =>
          embedOne(client, request.model, text, dimensions, ctx),
        );
      } catch (err) {
        throw mapBedrockError(err, providerName, ctx.signal, secrets);
      }
      const counted = results.every((r) => r.inputTokens !== undefined);
      return {
        model: request.model,
        vectors: results.map((r) => r.vector),
        usage: counted
          ? { inputTokens: results.reduce((sum, r) => sum + r.inputTokens!, 0), estimated: false }
          : undefined,
      };
    },

    /**
     * A one-token Converse on the first chat model (or one Titan embedding when the provider
     * serves only embeddings): Bedrock Runtime has no free listing call, and this checks
     * credentials, region, model access and the model itself at a cost of a few tokens.
     */
    async probe(ctx: CallContext): Promise<void> {
      const chatModel = provider.models.find((m) => m.kind === "chat");
      if (chatModel) {
        await adapter.chat(
          {
            model: chatModel.upstreamModel,
            messages: [{ role: "user", content: [{ type: "text", text: "ping" }] }],
            maxTokens: 1,
          },
          ctx,
        );
        return;
      }
      const embeddingModel = provider.models.find((m) => m.kind === "embedding");
      if (embeddingModel) await adapter.embed({ model: embeddingModel.upstreamModel, input: ["ping"] }, ctx);
    },
  };
  return adapter;
}
