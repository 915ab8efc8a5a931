import { GatewayError } from "../../shared/errors.js";
import type { CompiledProvider } from "../../shared/schemas/gateway-config.js";

function unresolved(provider: CompiledProvider): GatewayError | undefined {
  if (provider.credentials.mode !== "unresolved") return undefined;
  return new GatewayError(
    "upstream_unavailable",
    `LLMProvider ${provider.id} has no usable credentials: ${provider.credentials.message}`,
    { provider: provider.id },
  );
}

/** The provider's API key; fails clearly when the Secret could not be resolved. */
export function requireApiKey(provider: CompiledProvider): string {
  const failure = unresolved(provider);
  if (failure) throw failure;
  if (provider.credentials.mode !== "apiKey") {
    throw new GatewayError(
      "upstream_unavailable",
      `LLMProvider ${provider.id} of type ${provider.type} needs spec.credentials.secretRef`,
      { provider: provider.id },
    );
  }
  return provider.credentials.apiKey;
}

export function optionalApiKey(provider: CompiledProvider): string | undefined {
  const failure = unresolved(provider);
  if (failure) throw failure;
  return provider.credentials.mode === "apiKey" ? provider.credentials.apiKey : undefined;
}
