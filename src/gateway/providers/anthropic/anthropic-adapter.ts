import type { ChatRequest, ChatResponse, ChatStreamEvent } from "../../canonical/chat.js";
import type { EmbeddingResponse } from "../../canonical/embeddings.js";
import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import { GatewayError } from "../../../shared/errors.js";
import type { CallContext, ProviderAdapter } from "../provider-adapter.js";
import { requireApiKey } from "../credentials.js";
import { readJson, readText, sendUpstream, type UpstreamResponse } from "../upstream-http.js";
import { readSse } from "../sse-reader.js";
import { convertToAnthropicRequest, resolveAnthropicMaxTokens } from "./convert-to-anthropic-request.js";
import { mapAnthropicResponse } from "./map-anthropic-response.js";
import { mapAnthropicStream } from "./map-anthropic-stream.js";
import { mapAnthropicError } from "./map-anthropic-error.js";
import { readAnthropicInputTokens, toAnthropicCountTokensBody } from "./anthropic-count-tokens.js";
import type { AnthropicMessage } from "./anthropic-wire-types.js";

const ANTHROPIC_BASE_URL = "https://api.anthropic.com";
/** Pinned: 2026-10-21 rejects temperature/top_p/top_k, which canonical requests carry. */
const ANTHROPIC_API_VERSION = "2023-06-01";

/** Anthropic's Messages API with an API key (`x-api-key`). */
export function createAnthropicAdapter(provider: CompiledProvider): ProviderAdapter {
  // The host, as Anthropic's SDK takes it; a trailing /v1 (as written for OpenAI) is dropped.
  const base = (provider.endpoint ?? ANTHROPIC_BASE_URL).replace(/\/+$/, "").replace(/\/v1$/, "");
  const providerName = `anthropic provider ${provider.id}`;
  const secrets = (): string[] =>
    provider.credentials.mode === "apiKey" ? [provider.credentials.apiKey] : [];

  function headers(): Record<string, string> {
    return { "x-api-key": requireApiKey(provider), "anthropic-version": ANTHROPIC_API_VERSION };
  }

  async function post(
    path: string,
    body: Record<string, unknown>,
    ctx: CallContext,
    stream: boolean,
  ): Promise<UpstreamResponse> {
    const res = await sendUpstream(
      {
        url: `${base}${path}`,
        headers: {
          "content-type": "application/json",
          accept: stream ? "text/event-stream" : "application/json",
          ...headers(),
        },
        body: JSON.stringify(body),
        providerName,
        provider,
      },
      ctx,
    );
    if (res.status >= 300) {
      const text = await readText(res, providerName, ctx.signal).catch(() => "");
      throw mapAnthropicError(res.status, res.headers, text, providerName, secrets());
    }
    return res;
  }

  function postMessages(request: ChatRequest, ctx: CallContext, stream: boolean): Promise<UpstreamResponse> {
    const body = convertToAnthropicRequest(request, {
      stream,
      defaultMaxTokens: resolveAnthropicMaxTokens(request, provider),
      includeModel: true,
      jsonSchema: "native",
    });
    return post("/v1/messages", body, ctx, stream);
  }

  return {
    provider,

    async chat(request: ChatRequest, ctx: CallContext): Promise<ChatResponse> {
      const res = await postMessages(request, ctx, false);
      return mapAnthropicResponse(
        await readJson<AnthropicMessage>(res, providerName, ctx.signal),
        providerName,
      );
    },

    async chatStream(request: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChatStreamEvent>> {
      const res = await postMessages(request, ctx, true);
      return mapAnthropicStream(readSse(res, providerName, ctx.signal), providerName, secrets());
    },

    async countTokens(request: ChatRequest, ctx: CallContext): Promise<number> {
      const body = toAnthropicCountTokensBody(request, { includeModel: true, jsonSchema: "native" });
      const res = await post("/v1/messages/count_tokens", body, ctx, false);
      return readAnthropicInputTokens(await readJson<unknown>(res, providerName, ctx.signal), providerName);
    },

    async embed(): Promise<EmbeddingResponse> {
      throw new GatewayError(
        "invalid_request",
        `${providerName} cannot create embeddings: Anthropic has no embeddings API; route embedding models to another provider`,
        { provider: providerName },
      );
    },

    async probe(ctx: CallContext): Promise<void> {
      const res = await sendUpstream(
        { url: `${base}/v1/models?limit=1`, method: "GET", headers: headers(), providerName, provider },
        ctx,
      );
      const text = await readText(res, providerName, ctx.signal);
      if (res.status >= 300) throw mapAnthropicError(res.status, res.headers, text, providerName, secrets());
    },
  };
}
