import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import type { ProviderAdapter } from "../provider-adapter.js";
import { createOpenAiWireAdapter } from "../openai/openai-wire-adapter.js";
import { optionalApiKey } from "../credentials.js";

/**
 * vLLM, Ollama, DeepSeek and other servers that speak OpenAI's protocol under spec.endpoint
 * (the base URL including `/v1`). They know `max_tokens` (not always `max_completion_tokens`),
 * may send usage late or never, may only return float embeddings, and the key is optional.
 */
export function createOpenAiCompatibleAdapter(provider: CompiledProvider): ProviderAdapter {
  const base = provider.endpoint!;
  return createOpenAiWireAdapter({
    provider,
    providerName: `openai-compatible provider ${provider.id}`,
    url: (operation) => `${base}/${operation}`,
    authHeaders: async (): Promise<Record<string, string>> => {
      const key = optionalApiKey(provider);
      return key ? { authorization: `Bearer ${key}` } : {};
    },
    request: { streamUsage: true, maxTokensField: "max_tokens", includeModel: true },
    embeddingEncoding: "float",
    textCompletions: true,
    secrets: () => (provider.credentials.mode === "apiKey" ? [provider.credentials.apiKey] : []),
  });
}
