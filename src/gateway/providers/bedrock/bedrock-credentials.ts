import { GatewayError } from "../../../shared/errors.js";
import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";

/**
 * How the adapter authenticates to Bedrock:
 * - `secretRef` whose value is JSON `{"accessKeyId","secretAccessKey","sessionToken"?}` → SigV4
 *   with those static keys;
 * - `secretRef` with any other value → a Bedrock API key, sent as `Authorization: Bearer`;
 * - `workloadIdentity {}` → the AWS SDK's default chain (env, IRSA web identity token, EKS Pod
 *   Identity container credentials, instance role...);
 * - `workloadIdentity {roleArn}` → that role, assumed with the pod's projected web identity
 *   token (`AWS_WEB_IDENTITY_TOKEN_FILE`, as IRSA provides).
 */
export type BedrockAuth =
  | { kind: "static"; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | { kind: "apiKey"; apiKey: string }
  | { kind: "defaultChain" }
  | { kind: "webIdentity"; roleArn: string };

function invalidSecret(provider: CompiledProvider): GatewayError {
  return new GatewayError(
    "upstream_unavailable",
    `LLMProvider ${provider.id}: the credentials Secret must hold a Bedrock API key or JSON {"accessKeyId","secretAccessKey","sessionToken"?}`,
    { provider: provider.id },
  );
}

function parseSecret(provider: CompiledProvider, value: string): BedrockAuth {
  const trimmed = value.trim();
  if (!trimmed.startsWith("{")) return { kind: "apiKey", apiKey: trimmed };
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw invalidSecret(provider);
  }
  const { accessKeyId, secretAccessKey, sessionToken } = parsed as Record<string, unknown>;
  if (
    typeof accessKeyId !== "string" ||
    typeof secretAccessKey !== "string" ||
    !accessKeyId ||
    !secretAccessKey
  ) {
    throw invalidSecret(provider);
  }
  if (sessionToken !== undefined && typeof sessionToken !== "string") throw invalidSecret(provider);
  return { kind: "static", accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

export function resolveBedrockAuth(provider: CompiledProvider): BedrockAuth {
  const credentials = provider.credentials;
  switch (credentials.mode) {
    case "unresolved":
      throw new GatewayError(
        "upstream_unavailable",
        `LLMProvider ${provider.id} has no usable credentials: ${credentials.message}`,
        { provider: provider.id },
      );
    case "none":
      throw new GatewayError(
        "upstream_unavailable",
        `LLMProvider ${provider.id} of type bedrock needs spec.credentials.secretRef or spec.credentials.workloadIdentity`,
        { provider: provider.id },
      );
    case "apiKey":
      return parseSecret(provider, credentials.apiKey);
    case "workloadIdentity":
      return credentials.roleArn
        ? { kind: "webIdentity", roleArn: credentials.roleArn }
        : { kind: "defaultChain" };
  }
}

/** Secret values to mask in any upstream text shown to clients or logs. */
export function bedrockSecrets(provider: CompiledProvider, auth: BedrockAuth | undefined): string[] {
  const out: string[] = provider.credentials.mode === "apiKey" ? [provider.credentials.apiKey] : [];
  if (auth?.kind === "static")
    out.push(auth.secretAccessKey, ...(auth.sessionToken ? [auth.sessionToken] : []));
  if (auth?.kind === "apiKey") out.push(auth.apiKey);
  return out;
}
