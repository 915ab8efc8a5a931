import { getBearerTokenProvider } from "@azure/identity";
import { GatewayError } from "../../../shared/errors.js";
import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import { requireApiKey } from "../credentials.js";
import { mapTransportError } from "../upstream-http.js";
import { createAzureTokenCredential, type AzureIdentityOptions } from "./azure-token-credential.js";

export const AZURE_COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default";

function tokenError(providerName: string, err: unknown): GatewayError {
  const name = err instanceof Error ? err.name : "Error";
  // Entra's AADSTS code says what is wrong (e.g. AADSTS700211: no matching federated identity record).
  const code = /AADSTS\d+/.exec(err instanceof Error ? err.message : String(err))?.[0];
  return new GatewayError(
    "authentication",
    `${providerName} could not get a Microsoft Entra ID token (${name}${code ? `, ${code}` : ""}); ` +
      "check spec.credentials.workloadIdentity (clientId, tenantId) and the federated credential of the workload identity",
    { provider: providerName, cause: err },
  );
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error("aborted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * Azure auth: `api-key` for secretRef, an Entra ID bearer token for workloadIdentity. The token
 * provider (from @azure/identity) caches the token and refreshes it in the background from two
 * minutes before it expires, so most requests take no detour through Entra.
 */
export function createAzureAuthHeaders(
  provider: CompiledProvider,
  providerName: string,
  identityOptions?: AzureIdentityOptions,
): (signal: AbortSignal) => Promise<Record<string, string>> {
  let getToken: (() => Promise<string>) | undefined;
  const credentials = provider.credentials;

  return async (signal): Promise<Record<string, string>> => {
    if (credentials.mode === "none") {
      throw new GatewayError(
        "upstream_unavailable",
        `LLMProvider ${provider.id} of type azure-openai needs spec.credentials.secretRef (an api-key) or spec.credentials.workloadIdentity (Entra ID)`,
        { provider: provider.id },
      );
    }
    if (credentials.mode !== "workloadIdentity") return { "api-key": requireApiKey(provider) };
    try {
      // Built on first use: the credential constructor fails when the workload identity environment is missing.
      getToken ??= getBearerTokenProvider(
        createAzureTokenCredential(credentials, identityOptions),
        AZURE_COGNITIVE_SERVICES_SCOPE,
      );
      return { authorization: `Bearer ${await raceAbort(getToken(), signal)}` };
    } catch (err) {
      if (signal.aborted) throw mapTransportError(err, providerName, signal);
      throw tokenError(providerName, err);
    }
  };
}
