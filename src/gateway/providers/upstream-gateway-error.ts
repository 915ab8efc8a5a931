import { GatewayError, type ErrorClass, type GatewayErrorOptions } from "../../shared/errors.js";
import { redactSecrets } from "../../shared/redact.js";

/**
 * The GatewayError for an error body an upstream answered with. Credential failures carry only
 * `credentialsMessage`: upstreams echo the rejected key (OpenAI a masked copy), so their text is
 * never passed on. Any other upstream text is shown after `label`, with secrets redacted.
 */
export function upstreamGatewayError(
  errorClass: ErrorClass,
  upstreamText: string,
  label: string,
  credentialsMessage: string,
  options: GatewayErrorOptions,
  secrets: readonly string[],
): GatewayError {
  if (errorClass === "authentication" || errorClass === "permission") {
    return new GatewayError(errorClass, credentialsMessage, options);
  }
  return new GatewayError(errorClass, `${label}: ${redactSecrets(upstreamText, secrets)}`, options);
}
