import { parseRetryAfter, type ErrorClass, type GatewayError } from "../../../shared/errors.js";
import { errorClassForStatus } from "../status-error-class.js";
import { textField, unknownBodyExcerpt, upstreamGatewayError } from "../upstream-gateway-error.js";
import type { AnthropicErrorBody, AnthropicErrorPayload } from "./anthropic-wire-types.js";

/** The HTTP status Anthropic uses for each error type, for errors that arrive inside a 200 stream. */
const STATUS_BY_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** "prompt is too long: N tokens > M maximum" and "input length and `max_tokens` exceed context limit: ...". */
const CONTEXT_LENGTH = /prompt is too long|exceed(?:s)? context limit|context window/i;

function classify(payload: AnthropicErrorPayload, status: number): ErrorClass {
  if (CONTEXT_LENGTH.test(textField(payload.message) ?? "")) return "context_length_exceeded";
  switch (payload.type) {
    case "invalid_request_error":
      return "invalid_request";
    case "authentication_error":
      return "authentication";
    case "permission_error":
      return "permission";
    case "not_found_error":
      return "model_not_found";
    case "request_too_large":
      return "request_too_large";
    case "rate_limit_error":
      return "rate_limit";
    case "timeout_error":
      return "timeout";
    // Billing problems, internal errors and overload are all "this upstream cannot serve now": fall back.
    case "billing_error":
    case "api_error":
    case "overloaded_error":
      return "upstream_unavailable";
    default:
      return errorClassForStatus(status);
  }
}

/**
 * Maps an Anthropic error object into the taxonomy. `status` may be omitted for errors sent inside
 * a 200 stream; it is then implied by the error type.
 */
export function mapAnthropicErrorPayload(
  payload: AnthropicErrorPayload,
  status: number | undefined,
  retryAfterSeconds: number | undefined,
  providerName: string,
  secrets: readonly string[] = [],
): GatewayError {
  const type = textField(payload.type);
  const effectiveStatus = status ?? STATUS_BY_TYPE[type ?? ""] ?? 500;
  return upstreamGatewayError(
    classify(payload, effectiveStatus),
    textField(payload.message) ?? `HTTP ${effectiveStatus}`,
    type ? `${providerName} (${type})` : providerName,
    `${providerName} rejected the gateway's credentials (HTTP ${effectiveStatus}); check the API key of its LLMProvider`,
    { provider: providerName, upstreamStatus: effectiveStatus, retryAfterSeconds },
    secrets,
  );
}

/** Maps a non-2xx Messages API response (`{type: "error", error: {type, message}}`) into the taxonomy. */
export function mapAnthropicError(
  status: number,
  headers: Record<string, string>,
  bodyText: string,
  providerName: string,
  secrets: readonly string[] = [],
): GatewayError {
  let payload: AnthropicErrorPayload;
  try {
    const parsed = JSON.parse(bodyText) as AnthropicErrorBody;
    payload =
      parsed.error && typeof parsed.error === "object"
        ? parsed.error
        : { message: unknownBodyExcerpt(bodyText, secrets) };
  } catch {
    payload = { message: unknownBodyExcerpt(bodyText, secrets) };
  }
  return mapAnthropicErrorPayload(
    payload,
    status,
    parseRetryAfter(headers["retry-after"]),
    providerName,
    secrets,
  );
}
