import type { ErrorClass, GatewayError } from "../../../shared/errors.js";
import { redactSecrets } from "../../../shared/redact.js";
import type { RenderedError } from "../chat-ingress-format.js";

/**
 * Each class as the HTTP status and `error.type` of Anthropic's own API, so the Anthropic SDKs
 * raise their matching error class and apply their retry rules (they retry 429 and 5xx).
 * Context length and content filter are 400 invalid_request_error, as Anthropic reports them.
 * A timeout is 504 timeout_error (Anthropic's gateway-timeout type). An unavailable upstream
 * is 529 overloaded_error: Anthropic's "temporarily unable to serve, retry later", which
 * Anthropic clients already handle with backoff.
 */
const ANTHROPIC_ERRORS: Record<ErrorClass, { status: number; type: string }> = {
  invalid_request: { status: 400, type: "invalid_request_error" },
  authentication: { status: 401, type: "authentication_error" },
  permission: { status: 403, type: "permission_error" },
  model_not_found: { status: 404, type: "not_found_error" },
  not_found: { status: 404, type: "not_found_error" },
  request_too_large: { status: 413, type: "request_too_large" },
  request_timeout: { status: 408, type: "invalid_request_error" },
  rate_limit: { status: 429, type: "rate_limit_error" },
  context_length_exceeded: { status: 400, type: "invalid_request_error" },
  content_filter: { status: 400, type: "invalid_request_error" },
  timeout: { status: 504, type: "timeout_error" },
  upstream_unavailable: { status: 529, type: "overloaded_error" },
  policy_violation: { status: 403, type: "permission_error" },
  internal: { status: 500, type: "api_error" },
};

/**
 * Anthropic's error shape plus `code`: the gateway's own error class, as on the OpenAI side, since
 * several classes share one Anthropic type (a residency refusal and a permission error are both
 * permission_error). Anthropic's SDKs keep unknown fields on the error they raise. Every error a
 * client sees passes here, so every message is redacted once more on its way out.
 */
function errorBody(error: GatewayError): {
  type: "error";
  error: { type: string; code: ErrorClass; message: string };
} {
  return {
    type: "error",
    error: {
      type: ANTHROPIC_ERRORS[error.errorClass].type,
      code: error.errorClass,
      message: redactSecrets(error.message),
    },
  };
}

export function renderAnthropicError(error: GatewayError): RenderedError {
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers["retry-after"] = String(error.retryAfterSeconds);
  return { status: ANTHROPIC_ERRORS[error.errorClass].status, headers, body: errorBody(error) };
}

/** Anthropic's in-stream error event; the SDKs throw an APIError carrying `error.type`. */
export function renderAnthropicStreamError(error: GatewayError): string {
  return `event: error\ndata: ${JSON.stringify(errorBody(error))}\n\n`;
}
