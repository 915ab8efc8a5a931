import type { ProviderType } from "../../shared/schemas/llm-provider.js";
import type { CompiledProvider } from "../../shared/schemas/gateway-config.js";
import type { AdapterFactory, ProviderAdapter } from "./provider-adapter.js";
import { createOpenAiAdapter } from "./openai/openai-adapter.js";
import { createAzureOpenAiAdapter } from "./azure-openai/azure-openai-adapter.js";
import { createOpenAiCompatibleAdapter } from "./openai-compatible/openai-compatible-adapter.js";
import { createAnthropicAdapter } from "./anthropic/anthropic-adapter.js";
import { createBedrockAdapter } from "./bedrock/bedrock-adapter.js";
import { createVertexAdapter } from "./vertex/vertex-adapter.js";

/** The only place that maps a provider type to its adapter. */
const FACTORIES: Record<ProviderType, AdapterFactory> = {
  anthropic: createAnthropicAdapter,
  bedrock: createBedrockAdapter,
  openai: createOpenAiAdapter,
  "azure-openai": createAzureOpenAiAdapter,
  "openai-compatible": createOpenAiCompatibleAdapter,
  vertex: createVertexAdapter,
};

export function createAdapter(provider: CompiledProvider): ProviderAdapter {
  return FACTORIES[provider.type](provider);
}
