import { GatewayError } from "../../shared/errors.js";

/**
 * A 503 the gateway decided itself: the provider's connection pool and its queue were full, so no
 * upstream was called. Routing may fall back; health and circuit accounting tell it apart from an
 * upstream's own 503 with `instanceof`, since the provider did nothing wrong.
 */
export class PoolExhaustedError extends GatewayError {
  constructor(providerId: string, message: string) {
    super("upstream_unavailable", message, { provider: providerId, retryAfterSeconds: 1 });
  }
}
