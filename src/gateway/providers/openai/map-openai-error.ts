import { GatewayError, parseRetryAfter, type ErrorClass } from "../../../shared/errors.js";
import { redactSecrets } from "../../../shared/redact.js";
import { errorClassForStatus } from "../status-error-class.js";
import type { OpenAiErrorBody } from "./openai-wire-types.js";

type ErrorPayload = Exclude<OpenAiErrorBody["error"], string | undefined>;

function classify(payload: ErrorPayload, status: number): ErrorClass {
  const code = String(payload.code ?? "");
  const type = payload.type ?? "";
  const message = payload.message ?? "";
  if (code === "context_length_exceeded" || /maximum context length|context window/i.test(message)) {
    return "context_length_exceeded";
  }
  if (code === "content_filter" || code === "content_policy_violation" || /content (management )?policy|content filter/i.test(message)) {
    return "content_filter";
  }
  if (code === "model_not_found" || code === "DeploymentNotFound") return "model_not_found";
  if (code === "invalid_api_key" || type === "authentication_error") return "authentication";
  if (code === "rate_limit_exceeded" || code === "insufficient_quota" || type === "rate_limit_error") return "rate_limit";
  return errorClassForStatus(status);
}

export function mapOpenAiErrorPayload(
  payload: ErrorPayload,
  status: number,
  retryAfterSeconds: number | undefined,
  providerName: string,
  secrets: readonly string[] = [],
): GatewayError {
  const errorClass = classify(payload, status);
  const options = { provider: providerName, upstreamStatus: status, retryAfterSeconds, param: payload.param ?? undefined };
  if (errorClass === "authentication" || errorClass === "permission") {
    return new GatewayError(
      errorClass,
      `${providerName} rejected the gateway's credentials (HTTP ${status}); check the credentials of its LLMProvider`,
      options,
    );
  }
  const upstream = redactSecrets(payload.message ?? `HTTP ${status}`, secrets);
  return new GatewayError(errorClass, `${providerName}: ${upstream}`, options);
}

/** Maps a non-2xx OpenAI-format response into the taxonomy. */
export function mapOpenAiError(
  status: number,
  headers: Record<string, string>,
  bodyText: string,
  providerName: string,
  secrets: readonly string[] = [],
): GatewayError {
  let payload: ErrorPayload = {};
  try {
    const parsed = JSON.parse(bodyText) as OpenAiErrorBody;
    if (typeof parsed.error === "string") payload = { message: parsed.error };
    else if (parsed.error) payload = parsed.error;
    else if (parsed.message) payload = { message: parsed.message };
  } catch {
    payload = { message: bodyText.slice(0, 300) || undefined };
  }
  const retryAfterMs = Number(headers["retry-after-ms"]);
  const retryAfter = Number.isFinite(retryAfterMs) && retryAfterMs > 0
    ? Math.ceil(retryAfterMs / 1000)
    : parseRetryAfter(headers["retry-after"]);
  return mapOpenAiErrorPayload(payload, status, retryAfter, providerName, secrets);
}
