import { parseRetryAfter, type ErrorClass, type GatewayError } from "../../../shared/errors.js";
import { errorClassForStatus } from "../status-error-class.js";
import { textField, unknownBodyExcerpt, upstreamGatewayError } from "../upstream-gateway-error.js";
import type { GoogleErrorBody, GoogleErrorPayload } from "./vertex-wire-types.js";

const CONTEXT_LENGTH =
  /input token count.*exceeds|exceeds the maximum number of tokens|prompt is too long|context (?:length|window)/i;

const CLASS_BY_STATUS: Record<string, ErrorClass> = {
  UNAUTHENTICATED: "authentication",
  PERMISSION_DENIED: "permission",
  NOT_FOUND: "model_not_found",
  RESOURCE_EXHAUSTED: "rate_limit",
  DEADLINE_EXCEEDED: "timeout",
  UNAVAILABLE: "upstream_unavailable",
  INTERNAL: "upstream_unavailable",
};

function classify(payload: GoogleErrorPayload, httpStatus: number): ErrorClass {
  const status = textField(payload.status) ?? "";
  if (
    (status === "INVALID_ARGUMENT" || status === "") &&
    CONTEXT_LENGTH.test(textField(payload.message) ?? "")
  ) {
    return "context_length_exceeded";
  }
  return CLASS_BY_STATUS[status] ?? errorClassForStatus(payload.code ?? httpStatus);
}

/** google.rpc.RetryInfo's retryDelay is a Duration string such as "30s" or "1.5s". */
function retryDelaySeconds(payload: GoogleErrorPayload): number | undefined {
  for (const detail of payload.details ?? []) {
    const match = /^(\d+(?:\.\d+)?)s$/.exec(textField(detail.retryDelay) ?? "");
    if (match) return Math.ceil(Number(match[1]));
  }
  return undefined;
}

export function mapGoogleErrorPayload(
  payload: GoogleErrorPayload,
  httpStatus: number,
  retryAfterSeconds: number | undefined,
  providerName: string,
  secrets: readonly string[] = [],
): GatewayError {
  return upstreamGatewayError(
    classify(payload, httpStatus),
    textField(payload.message) ?? `HTTP ${httpStatus}`,
    providerName,
    `${providerName} rejected the gateway's Google credentials (${textField(payload.status) ?? `HTTP ${httpStatus}`}); check the credentials of its LLMProvider and that the service account has the Vertex AI User role`,
    {
      provider: providerName,
      upstreamStatus: payload.code ?? httpStatus,
      retryAfterSeconds: retryAfterSeconds ?? retryDelaySeconds(payload),
    },
    secrets,
  );
}

/** Reads Google's `{error: {code, message, status}}` body (Vertex wraps it in an array on JSON-array streams). */
export function parseGoogleErrorBody(bodyText: string): GoogleErrorPayload | undefined {
  try {
    const parsed = JSON.parse(bodyText) as GoogleErrorBody | GoogleErrorBody[];
    const body = Array.isArray(parsed) ? parsed[0] : parsed;
    return body?.error && typeof body.error === "object" ? body.error : undefined;
  } catch {
    return undefined;
  }
}

/** Maps a non-2xx Vertex response in Google's error format into the taxonomy. */
export function mapGoogleError(
  status: number,
  headers: Record<string, string>,
  bodyText: string,
  providerName: string,
  secrets: readonly string[] = [],
): GatewayError {
  const payload = parseGoogleErrorBody(bodyText) ?? { message: unknownBodyExcerpt(bodyText, secrets) };
  return mapGoogleErrorPayload(
    payload,
    status,
    parseRetryAfter(headers["retry-after"]),
    providerName,
    secrets,
  );
}
