import type { ErrorClass, GatewayError } from "../../../shared/errors.js";
import { redactSecrets } from "../../../shared/redact.js";
import type { RenderedError } from "../chat-ingress-format.js";

/** OpenAI's `error.type` for each class, as its SDKs and clients expect. */
const OPENAI_TYPES: Record<ErrorClass, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  permission: "permission_error",
  model_not_found: "invalid_request_error",
  not_found: "invalid_request_error",
  request_too_large: "invalid_request_error",
  request_timeout: "invalid_request_error",
  rate_limit: "rate_limit_error",
  context_length_exceeded: "invalid_request_error",
  content_filter: "invalid_request_error",
  timeout: "timeout_error",
  upstream_unavailable: "upstream_unavailable_error",
  policy_violation: "permission_error",
  internal: "server_error",
};

/** Every error a client sees passes here, so every message is redacted once more on its way out. */
export function openAiErrorPayload(error: GatewayError): Record<string, unknown> {
  return {
    message: redactSecrets(error.message),
    type: OPENAI_TYPES[error.errorClass],
    param: error.param === undefined ? null : redactSecrets(error.param),
    code: error.errorClass,
  };
}

export function renderOpenAiError(error: GatewayError): RenderedError {
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers["retry-after"] = String(error.retryAfterSeconds);
  return { status: error.httpStatus, headers, body: { error: openAiErrorPayload(error) } };
}

/** OpenAI SDKs raise an APIError when a stream event carries `error`. */
export function renderOpenAiStreamError(error: GatewayError): string {
  return `data: ${JSON.stringify({ error: openAiErrorPayload(error) })}\n\n`;
}
