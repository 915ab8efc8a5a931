import type { CompiledModel, CompiledProvider, CompiledRoute } from "../../shared/schemas/gateway-config.js";
import type { ProviderAdapter } from "../providers/provider-adapter.js";

/** One route target resolved against a config snapshot: where an attempt can go. */
export interface Candidate {
  provider: CompiledProvider;
  model: CompiledModel;
  adapter: ProviderAdapter;
  target: CompiledRoute["targets"][number];
  /** `providerId/modelName`, the key of the target's circuit and health. */
  key: string;
}
