import { parseRetryAfter, type ErrorClass, type GatewayError } from "../../../shared/errors.js";
import { errorClassForStatus } from "../status-error-class.js";
import { textField, unknownBodyExcerpt, upstreamGatewayError } from "../upstream-gateway-error.js";
import type { OpenAiErrorBody, OpenAiErrorPayload } from "./openai-wire-types.js";

function classify(payload: OpenAiErrorPayload, status: number): ErrorClass {
  const code = String(payload.code ?? "");
  const type = textField(payload.type) ?? "";
  const message = textField(payload.message) ?? "";
  // "maximum context length" (OpenAI, Azure, vLLM) and "exceeds the context length" (Ollama).
  if (code === "context_length_exceeded" || /context length|context window/i.test(message)) {
    return "context_length_exceeded";
  }
  if (
    code === "content_filter" ||
    code === "content_policy_violation" ||
    payload.innererror?.code === "ResponsibleAIPolicyViolation" ||
    /content (management )?policy|content filter/i.test(message)
  ) {
    return "content_filter";
  }
  if (code === "model_not_found" || code === "DeploymentNotFound") return "model_not_found";
  if (code === "invalid_api_key" || type === "authentication_error") return "authentication";
  if (code === "rate_limit_exceeded" || code === "insufficient_quota" || type === "rate_limit_error")
    return "rate_limit";
  return errorClassForStatus(status);
}

export function mapOpenAiErrorPayload(
  payload: OpenAiErrorPayload,
  status: number,
  retryAfterSeconds: number | undefined,
  providerName: string,
  secrets: readonly string[] = [],
): GatewayError {
  return upstreamGatewayError(
    classify(payload, status),
    textField(payload.message) ?? `HTTP ${status}`,
    providerName,
    `${providerName} rejected the gateway's credentials (HTTP ${status}); check the credentials of its LLMProvider`,
    { provider: providerName, upstreamStatus: status, retryAfterSeconds, param: textField(payload.param) },
    secrets,
  );
}

function errorPayload(bodyText: string, secrets: readonly string[]): OpenAiErrorPayload {
  let parsed: OpenAiErrorBody;
  try {
    parsed = JSON.parse(bodyText) as OpenAiErrorBody;
  } catch {
    return { message: unknownBodyExcerpt(bodyText, secrets) };
  }
  if (typeof parsed.error === "string") return { message: parsed.error };
  if (parsed.error) return parsed.error;
  if (parsed.message)
    return { message: parsed.message, type: parsed.type, param: parsed.param, code: parsed.code };
  return {};
}

/** Retry delay in seconds: Azure's `retry-after-ms` is more precise than `retry-after`. */
function retryAfterSeconds(headers: Record<string, string>): number | undefined {
  const retryAfterMs = Number(headers["retry-after-ms"]);
  if (Number.isFinite(retryAfterMs) && retryAfterMs > 0) return Math.ceil(retryAfterMs / 1000);
  return parseRetryAfter(headers["retry-after"]);
}

/** Maps a non-2xx OpenAI-format response into the taxonomy. */
export function mapOpenAiError(
  status: number,
  headers: Record<string, string>,
  bodyText: string,
  providerName: string,
  secrets: readonly string[] = [],
): GatewayError {
  return mapOpenAiErrorPayload(
    errorPayload(bodyText, secrets),
    status,
    retryAfterSeconds(headers),
    providerName,
    secrets,
  );
}
