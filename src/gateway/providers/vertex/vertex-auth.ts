import { GoogleAuth, Impersonated, gcpMetadata, type AuthClient } from "google-auth-library";
import { GatewayError } from "../../../shared/errors.js";
import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import { optionalApiKey } from "../credentials.js";
import { mapTransportError } from "../upstream-http.js";

export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
/** Where google-auth-library always sends the service-account JWT grant. */
const DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token";

interface ServiceAccountKey {
  type?: string;
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

/** Google access tokens for one provider. The auth client is built once and refreshes its token before expiry. */
export interface VertexAuth {
  headers(signal: AbortSignal): Promise<Record<string, string>>;
  /** Secret values to redact from upstream error text. */
  secrets(): readonly string[];
}

function parseServiceAccountKey(secret: string, providerId: string): ServiceAccountKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    parsed = undefined;
  }
  const key = parsed as Partial<ServiceAccountKey> | undefined;
  if (!key || typeof key.client_email !== "string" || typeof key.private_key !== "string") {
    throw new GatewayError(
      "authentication",
      `the Secret of LLMProvider ${providerId} must hold a Google service-account JSON key (with client_email and private_key); for keyless access use spec.credentials.workloadIdentity`,
      { provider: providerId },
    );
  }
  return key as ServiceAccountKey;
}

/**
 * google-auth-library posts every service-account grant to Google's default token URL and ignores
 * the key's `token_uri`, which Google's Go and Python libraries honour (private endpoints, tests).
 */
function honourTokenUri(tokenUri: string | undefined): typeof fetch | undefined {
  if (!tokenUri || tokenUri === DEFAULT_TOKEN_URL) return undefined;
  return (input, init) => fetch(String(input) === DEFAULT_TOKEN_URL ? tokenUri : input, init);
}

async function buildClient(provider: CompiledProvider): Promise<AuthClient | undefined> {
  const secret = optionalApiKey(provider);
  if (secret !== undefined) {
    const key = parseServiceAccountKey(secret, provider.id);
    const fetchImplementation = honourTokenUri(key.token_uri);
    const auth = new GoogleAuth({
      credentials: key,
      scopes: [CLOUD_PLATFORM_SCOPE],
      ...(fetchImplementation ? { clientOptions: { transporterOptions: { fetchImplementation } } } : {}),
    });
    return auth.getClient();
  }
  const credentials = provider.credentials;
  if (credentials.mode !== "workloadIdentity") return undefined;
  // Application Default Credentials: GKE Workload Identity and GCE through the metadata server,
  // or GOOGLE_APPLICATION_CREDENTIALS (a key, or an external_account for Workload Identity
  // Federation). The project is known, so the library need not look it up (on the metadata
  // server, with gcloud, or through Cloud Resource Manager, which fails a federated pod offline).
  const source = await new GoogleAuth({
    scopes: [CLOUD_PLATFORM_SCOPE],
    ...(provider.project ? { projectId: provider.project } : {}),
  })
    .getClient()
    .catch((err: unknown) => {
      // gcp-metadata remembers a failed metadata server probe for the life of the process, and
      // GKE's metadata server can need a few seconds before it serves a new pod: probe again next time.
      gcpMetadata.resetIsAvailableCache();
      throw err;
    });
  if (!credentials.serviceAccount) return source;
  return new Impersonated({
    sourceClient: source,
    targetPrincipal: credentials.serviceAccount,
    targetScopes: [CLOUD_PLATFORM_SCOPE],
    lifetime: 3600,
  });
}

function mapAuthFailure(err: unknown, providerName: string, signal: AbortSignal): GatewayError {
  if (err instanceof GatewayError) return err;
  if (signal.aborted) return mapTransportError(err, providerName, signal);
  const status = (err as { response?: { status?: number } }).response?.status;
  if (status !== undefined && status >= 500) {
    return new GatewayError(
      "upstream_unavailable",
      `${providerName}: Google's token service failed (HTTP ${status})`,
      {
        provider: providerName,
        upstreamStatus: status,
        cause: err,
      },
    );
  }
  if (status !== undefined) {
    // Token endpoint rejections (invalid_grant, ...) are credential problems; their text is not
    // echoed, only the OAuth error code.
    const oauthError = (err as { response?: { data?: { error?: unknown } } }).response?.data?.error;
    const code = typeof oauthError === "string" && /^[a-z_]{1,40}$/.test(oauthError) ? ` ${oauthError}` : "";
    return new GatewayError(
      "authentication",
      `${providerName}: Google refused to issue an access token (HTTP ${status}${code}); check the credentials of its LLMProvider`,
      { provider: providerName, upstreamStatus: status, cause: err },
    );
  }
  if (/default credentials/i.test(String((err as Error).message))) {
    return new GatewayError(
      "authentication",
      `${providerName}: no Google Application Default Credentials were found; set up GKE Workload Identity for the gateway's ServiceAccount or use spec.credentials.secretRef`,
      { provider: providerName, cause: err },
    );
  }
  const code = (err as { code?: string }).code;
  return new GatewayError(
    "upstream_unavailable",
    `${providerName}: could not obtain a Google access token (${code ?? "network error"})`,
    {
      provider: providerName,
      cause: err,
    },
  );
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export function createVertexAuth(provider: CompiledProvider, providerName: string): VertexAuth {
  let client: Promise<AuthClient | undefined> | undefined;

  return {
    async headers(signal: AbortSignal): Promise<Record<string, string>> {
      try {
        client ??= buildClient(provider).catch((err: unknown) => {
          // A failed build (bad key, no ADC yet) is retried on the next call rather than cached.
          client = undefined;
          throw err;
        });
        const resolved = await raceAbort(client, signal);
        if (!resolved) return {};
        const headers = await raceAbort(resolved.getRequestHeaders(), signal);
        return Object.fromEntries(headers.entries());
      } catch (err) {
        throw mapAuthFailure(err, providerName, signal);
      }
    },
    secrets(): readonly string[] {
      if (provider.credentials.mode !== "apiKey") return [];
      try {
        const key = JSON.parse(provider.credentials.apiKey) as Partial<ServiceAccountKey>;
        return [key.private_key, key.private_key_id].filter((s): s is string => typeof s === "string");
      } catch {
        return [provider.credentials.apiKey];
      }
    },
  };
}
