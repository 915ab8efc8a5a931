import { GatewayError } from "../../shared/errors.js";

/** Which of the gateway's own limits refused a request. */
export type LimitScope = "provider" | "consumer" | "budget";

/**
 * A 429 the gateway decided itself (no upstream was called). It is a rate_limit GatewayError, so
 * routing may fall back and clients get Retry-After; health and circuit accounting can tell it
 * apart from an upstream's 429 with `instanceof`, since the provider did nothing wrong.
 */
export class LimitExceededError extends GatewayError {
  readonly scope: LimitScope;

  constructor(scope: LimitScope, message: string, retryAfterMs: number, provider?: string) {
    super("rate_limit", message, {
      retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
      provider,
    });
    this.scope = scope;
  }
}
