/**
 * The gateway's single error taxonomy. Provider adapters map upstream failures into it once;
 * ingress formats render it as OpenAI- or Anthropic-style bodies with the matching HTTP status.
 */

export const ERROR_CLASSES = [
  "invalid_request",
  "authentication",
  "permission",
  "model_not_found",
  "not_found",
  "request_too_large",
  /** The client sent its request too slowly (headers or body); nothing was called. */
  "request_timeout",
  "rate_limit",
  "context_length_exceeded",
  "content_filter",
  "timeout",
  "upstream_unavailable",
  "policy_violation",
  "internal",
] as const;

export type ErrorClass = (typeof ERROR_CLASSES)[number];

const HTTP_STATUS: Record<ErrorClass, number> = {
  invalid_request: 400,
  authentication: 401,
  permission: 403,
  model_not_found: 404,
  not_found: 404,
  request_too_large: 413,
  request_timeout: 408,
  rate_limit: 429,
  context_length_exceeded: 400,
  content_filter: 400,
  timeout: 504,
  upstream_unavailable: 503,
  policy_violation: 403,
  internal: 500,
};

export interface GatewayErrorOptions {
  /** Which field of the client's request was wrong, if any (OpenAI's `param`). */
  param?: string;
  /** Seconds the client should wait, rendered as `Retry-After`. */
  retryAfterSeconds?: number;
  /** The provider that failed, for logs and headers; never a secret. */
  provider?: string;
  /** HTTP status the upstream answered with, kept for diagnostics. */
  upstreamStatus?: number;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly errorClass: ErrorClass;
  readonly param?: string;
  readonly retryAfterSeconds?: number;
  readonly provider?: string;
  readonly upstreamStatus?: number;

  constructor(errorClass: ErrorClass, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GatewayError";
    this.errorClass = errorClass;
    this.param = options.param;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.provider = options.provider;
    this.upstreamStatus = options.upstreamStatus;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.errorClass];
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}

/** Parses a `Retry-After` header (seconds or HTTP date) into whole seconds. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
