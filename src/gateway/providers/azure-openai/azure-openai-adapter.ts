import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import type { ProviderAdapter } from "../provider-adapter.js";
import { createOpenAiWireAdapter } from "../openai/openai-wire-adapter.js";
import { azureRequestOptions, DEFAULT_AZURE_API_VERSION } from "./azure-api-version.js";
import { createAzureAuthHeaders } from "./azure-auth-headers.js";
import type { AzureIdentityOptions } from "./azure-token-credential.js";

export interface AzureOpenAiAdapterOptions {
  /** Extra @azure/identity options, e.g. a local authority in tests; production needs none. */
  identityOptions?: AzureIdentityOptions;
}

/**
 * Azure OpenAI: the OpenAI wire format on `{endpoint}/openai/deployments/{deployment}/...` with an
 * `api-version` query parameter; the model's upstreamModel is the deployment name.
 */
export function createAzureOpenAiAdapter(
  provider: CompiledProvider,
  options: AzureOpenAiAdapterOptions = {},
): ProviderAdapter {
  // Accept the endpoint with or without the `/openai` suffix that some portals show.
  const base = provider.endpoint!.replace(/\/+$/, "").replace(/\/openai$/, "");
  const apiVersion = provider.apiVersion ?? DEFAULT_AZURE_API_VERSION;
  const query = `api-version=${encodeURIComponent(apiVersion)}`;
  const providerName = `azure-openai provider ${provider.id}`;
  return createOpenAiWireAdapter({
    provider,
    providerName,
    url: (operation, deployment) =>
      operation === "models"
        ? `${base}/openai/models?${query}`
        : `${base}/openai/deployments/${encodeURIComponent(deployment ?? "")}/${operation}?${query}`,
    authHeaders: createAzureAuthHeaders(provider, providerName, options.identityOptions),
    request: { ...azureRequestOptions(apiVersion), includeModel: false },
    embeddingEncoding: "base64",
    secrets: () => (provider.credentials.mode === "apiKey" ? [provider.credentials.apiKey] : []),
  });
}
