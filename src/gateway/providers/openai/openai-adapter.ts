import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import type { ProviderAdapter } from "../provider-adapter.js";
import { createOpenAiWireAdapter } from "./openai-wire-adapter.js";
import { requireApiKey } from "../credentials.js";

/** spec.endpoint, when set, replaces this base URL and must include the `/v1` path, like the SDK's baseURL. */
const OPENAI_BASE_URL = "https://api.openai.com/v1";

export function createOpenAiAdapter(provider: CompiledProvider): ProviderAdapter {
  const base = provider.endpoint ?? OPENAI_BASE_URL;
  return createOpenAiWireAdapter({
    provider,
    providerName: `openai provider ${provider.id}`,
    url: (operation) => `${base}/${operation}`,
    authHeaders: async () => ({ authorization: `Bearer ${requireApiKey(provider)}` }),
    request: { streamUsage: true, maxTokensField: "max_completion_tokens", includeModel: true },
    embeddingEncoding: "base64",
    textCompletions: true,
    secrets: () => (provider.credentials.mode === "apiKey" ? [provider.credentials.apiKey] : []),
  });
}
