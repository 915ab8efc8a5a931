import { GatewayError, type ErrorClass, type GatewayErrorOptions } from "../../shared/errors.js";
import { redactSecrets, redactedExcerpt } from "../../shared/redact.js";

/** Upstream error text beyond this is cut (after redaction): it is a diagnostic, not a payload. */
const MAX_UPSTREAM_TEXT = 1000;
/** A body in no known error format is shown this far, as a hint of what answered. */
const MAX_UNKNOWN_BODY = 300;
const MAX_PARAM = 200;

/** The start of a body in no known error format, redacted before it is cut. */
export function unknownBodyExcerpt(bodyText: string, secrets: readonly string[] = []): string | undefined {
  return redactedExcerpt(bodyText, MAX_UNKNOWN_BODY, secrets) || undefined;
}

/**
 * The GatewayError for an error body an upstream answered with. Credential failures carry only
 * `credentialsMessage`: upstreams echo the rejected key (OpenAI a masked copy), so their text is
 * never passed on. Any other upstream text is shown after `label`. Every field that came from the
 * upstream (text, label parts, `param`) is redacted before it is cut to length.
 */
export function upstreamGatewayError(
  errorClass: ErrorClass,
  upstreamText: string,
  label: string,
  credentialsMessage: string,
  options: GatewayErrorOptions,
  secrets: readonly string[],
): GatewayError {
  const param = options.param === undefined ? undefined : redactedExcerpt(options.param, MAX_PARAM, secrets);
  const safeOptions = { ...options, param };
  if (errorClass === "authentication" || errorClass === "permission") {
    return new GatewayError(errorClass, redactSecrets(credentialsMessage, secrets), safeOptions);
  }
  return new GatewayError(
    errorClass,
    `${redactSecrets(label, secrets)}: ${redactedExcerpt(upstreamText, MAX_UPSTREAM_TEXT, secrets)}`,
    safeOptions,
  );
}

/** A field of an upstream error body when it is the string its format promises, else nothing. */
export function textField(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
