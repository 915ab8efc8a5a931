import type {
  CompiledModel,
  CompiledProvider,
  CompiledRoute,
  GatewayConfig,
} from "../../shared/schemas/gateway-config.js";
import type { ProviderAdapter } from "../providers/provider-adapter.js";
import { createAdapter } from "../providers/adapter-registry.js";

/**
 * Everything a request needs from one config snapshot, built once per snapshot so the hot path
 * does map lookups only. In-flight requests keep the runtime they started with.
 */
export interface GatewayRuntime {
  config: GatewayConfig;
  routesByModel: Map<string, CompiledRoute>;
  providers: Map<string, CompiledProvider>;
  adapters: Map<string, ProviderAdapter>;
  /** `providerId/modelName` → model. */
  models: Map<string, CompiledModel>;
}

export function buildRuntime(config: GatewayConfig): GatewayRuntime {
  const routesByModel = new Map<string, CompiledRoute>();
  for (const route of config.routes) {
    for (const name of [route.model, ...route.aliases]) routesByModel.set(name, route);
  }
  const providers = new Map<string, CompiledProvider>();
  const adapters = new Map<string, ProviderAdapter>();
  const models = new Map<string, CompiledModel>();
  for (const provider of config.providers) {
    providers.set(provider.id, provider);
    adapters.set(provider.id, createAdapter(provider));
    for (const model of provider.models) models.set(`${provider.id}/${model.name}`, model);
  }
  return { config, routesByModel, providers, adapters, models };
}
