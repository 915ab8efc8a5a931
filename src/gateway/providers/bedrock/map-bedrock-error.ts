import { BedrockRuntimeServiceException } from "@aws-sdk/client-bedrock-runtime";
import { GatewayError, parseRetryAfter, type ErrorClass } from "../../../shared/errors.js";
import { redactSecrets } from "../../../shared/redact.js";
import { errorClassForStatus } from "../status-error-class.js";
import { mapTransportError } from "../upstream-http.js";

/**
 * What the SDK throws: service exceptions (named after the `x-amzn-errortype` header or the
 * event-stream `:exception-type`, with `$metadata` and a hidden `$response`), credential
 * provider failures, and transport errors from the HTTP handler.
 */
interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

const AUTHENTICATION_ERRORS = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignatureException",
  "MissingAuthenticationTokenException",
  "ExpiredTokenException",
  "InvalidClientTokenId",
]);

/** Raised inside the gateway when the SDK's credential chain finds nothing usable. */
const CREDENTIAL_LOADING_ERRORS = new Set(["CredentialsProviderError", "TokenProviderError"]);

const CONTEXT_LENGTH = /too long|too many (input )?tokens|context (length|window)/i;

function classify(name: string, message: string, status: number | undefined): ErrorClass {
  if (AUTHENTICATION_ERRORS.has(name)) return "authentication";
  switch (name) {
    case "ValidationException":
      if (CONTEXT_LENGTH.test(message)) return "context_length_exceeded";
      if (/model identifier is invalid/i.test(message)) return "model_not_found";
      return "invalid_request";
    // A rejected Bedrock API key comes back as AccessDenied with an "Authentication failed" text.
    case "AccessDeniedException":
      return /authentication failed|api key/i.test(message) ? "authentication" : "permission";
    case "ResourceNotFoundException":
      return "model_not_found";
    case "ThrottlingException":
    case "ServiceQuotaExceededException":
      return "rate_limit";
    case "ModelTimeoutException":
      return "timeout";
    case "ServiceUnavailableException":
    case "InternalServerException":
    case "ModelNotReadyException":
    case "ModelErrorException":
    case "ModelStreamErrorException":
      return "upstream_unavailable";
    case "ConflictException":
    case "SerializationException":
      return "invalid_request";
    default:
      return status !== undefined ? errorClassForStatus(status) : "upstream_unavailable";
  }
}

function isServiceError(err: SdkError): boolean {
  return (
    err.$metadata?.httpStatusCode !== undefined ||
    /Exception$/.test(err.name ?? "") ||
    AUTHENTICATION_ERRORS.has(err.name ?? "")
  );
}

/** Maps anything the Bedrock SDK throws (request, response or mid-stream) into the taxonomy. */
export function mapBedrockError(
  err: unknown,
  providerName: string,
  signal: AbortSignal,
  secrets: readonly string[] = [],
): GatewayError {
  if (err instanceof GatewayError) return err;
  const sdk = (err ?? {}) as SdkError;
  const name = sdk.name ?? "Error";
  if (signal.aborted || name === "AbortError") return mapTransportError(err, providerName, signal);
  if (CREDENTIAL_LOADING_ERRORS.has(name)) {
    return new GatewayError(
      "authentication",
      `${providerName}: the gateway could not load AWS credentials (${name}); check the workload identity (IRSA or EKS Pod Identity) or the credentials Secret of its LLMProvider`,
      { provider: providerName, cause: err },
    );
  }
  // A service error that is not Bedrock's came from the client the credential chain calls: STS
  // refusing AssumeRoleWithWebIdentity (trust policy, OIDC provider, token audience or expiry).
  if (sdk.$fault !== undefined && !(err instanceof BedrockRuntimeServiceException)) {
    const status = sdk.$metadata?.httpStatusCode;
    const transient = sdk.$fault === "server" || name === "IDPCommunicationErrorException";
    return new GatewayError(
      transient ? "upstream_unavailable" : "authentication",
      transient
        ? `${providerName}: AWS STS could not issue credentials for the gateway's web identity (${name}); retry later`
        : `${providerName}: AWS STS refused sts:AssumeRoleWithWebIdentity for the gateway (${name}); check the IAM role's trust policy, the cluster's IAM OIDC provider and the role ARN`,
      { provider: providerName, upstreamStatus: status, cause: err },
    );
  }
  // The SDK's HTTP handler also names a reset connection (ECONNRESET, EPIPE) a TimeoutError.
  if (name === "TimeoutError" && (sdk.code === undefined || sdk.code === "ETIMEDOUT")) {
    return new GatewayError("timeout", `${providerName} did not answer in time`, {
      provider: providerName,
      cause: err,
    });
  }
  if (!isServiceError(sdk)) {
    if (sdk.code) return mapTransportError(err, providerName, signal);
    return new GatewayError(
      "upstream_unavailable",
      `${providerName} sent a response that could not be read: ${redactSecrets(sdk.message ?? name, secrets)}`,
      { provider: providerName, cause: err },
    );
  }
  const status = sdk.$metadata?.httpStatusCode;
  const message = sdk.message ?? "";
  const errorClass = classify(name, message, status);
  const options = {
    provider: providerName,
    upstreamStatus: status,
    retryAfterSeconds: parseRetryAfter(sdk.$response?.headers?.["retry-after"]),
  };
  if (errorClass === "authentication") {
    return new GatewayError(
      "authentication",
      `${providerName} rejected the gateway's AWS credentials (${name}); check the credentials of its LLMProvider`,
      options,
    );
  }
  if (errorClass === "permission") {
    return new GatewayError(
      "permission",
      `${providerName} denied access (${name}); check that the gateway's IAM identity may call bedrock:InvokeModel on this model and that model access is enabled in the region`,
      options,
    );
  }
  return new GatewayError(errorClass, `${providerName}: ${redactSecrets(message || name, secrets)}`, options);
}
