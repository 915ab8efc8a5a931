import { createHash } from "node:crypto";
import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from "@aws-sdk/client-bedrock-runtime";
import { fromTokenFile } from "@aws-sdk/credential-provider-web-identity";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { GatewayError } from "../../../shared/errors.js";
import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import type { BedrockAuth } from "./bedrock-credentials.js";

function clientConfig(provider: CompiledProvider, auth: BedrockAuth): BedrockRuntimeClientConfig {
  if (!provider.region) {
    throw new GatewayError(
      "upstream_unavailable",
      `LLMProvider ${provider.id} of type bedrock needs spec.region`,
      {
        provider: provider.id,
      },
    );
  }
  const { connectMs, firstTokenMs, idleMs } = provider.timeouts;
  const config: BedrockRuntimeClientConfig = {
    region: provider.region,
    ...(provider.endpoint ? { endpoint: provider.endpoint } : {}),
    // Routing owns retries and fallback; SDK retries would multiply attempts and hide Retry-After.
    maxAttempts: 1,
    // HTTP/1.1 with keep-alive: the SDK's default HTTP/2 handler is only needed for bidirectional
    // streams, and this handler applies the provider's deadlines (connect, headers, idle socket).
    requestHandler: new NodeHttpHandler({
      connectionTimeout: connectMs,
      requestTimeout: firstTokenMs,
      throwOnRequestTimeout: true,
      socketTimeout: idleMs,
      httpAgent: { maxSockets: provider.connectionPool.maxConnections },
      httpsAgent: { maxSockets: provider.connectionPool.maxConnections },
    }),
    // An explicit scheme, so AWS_BEARER_TOKEN_BEDROCK or AWS_AUTH_SCHEME_PREFERENCE in the
    // gateway's environment cannot silently change how a provider authenticates.
    authSchemePreference: [auth.kind === "apiKey" ? "httpBearerAuth" : "sigv4"],
  };
  switch (auth.kind) {
    case "static":
      config.credentials = {
        accessKeyId: auth.accessKeyId,
        secretAccessKey: auth.secretAccessKey,
        ...(auth.sessionToken ? { sessionToken: auth.sessionToken } : {}),
      };
      break;
    case "apiKey":
      config.token = { token: auth.apiKey };
      break;
    case "webIdentity":
      config.credentials = fromTokenFile({ roleArn: auth.roleArn, roleSessionName: "switchboard-gateway" });
      break;
    case "defaultChain":
      break;
  }
  return config;
}

interface CachedClient {
  fingerprint: string;
  client: BedrockRuntimeClient;
}

const clients = new Map<string, CachedClient>();

/** Hash of everything the client is built from, so a changed snapshot gets a new client. */
function fingerprint(provider: CompiledProvider): string {
  const { region, endpoint, credentials, timeouts, connectionPool } = provider;
  return createHash("sha256")
    .update(JSON.stringify({ region, endpoint, credentials, timeouts, connectionPool }))
    .digest("hex");
}

/**
 * One client (and so one connection pool and credential cache) per provider. When a new config
 * snapshot changes the provider, the old client is destroyed only after the longest request it
 * may still be serving has had time to finish.
 */
export function bedrockClientFor(provider: CompiledProvider, auth: BedrockAuth): BedrockRuntimeClient {
  const print = fingerprint(provider);
  const cached = clients.get(provider.id);
  if (cached?.fingerprint === print) return cached.client;
  const client = new BedrockRuntimeClient(clientConfig(provider, auth));
  clients.set(provider.id, { fingerprint: print, client });
  if (cached) setTimeout(() => cached.client.destroy(), provider.timeouts.totalMs).unref();
  return client;
}
