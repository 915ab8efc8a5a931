import type { AttemptRecord } from "../routing/dispatcher.js";
import type { Candidate } from "../routing/candidate.js";

/**
 * Response headers that say where a request went. Values are namespace-qualified resource names;
 * x-switchboard-attempts counts upstream calls (retries and fallbacks included), and
 * x-switchboard-fallback says a target other than the first one tried answered.
 */
export function routingHeaders(
  routeId: string,
  candidate: Candidate,
  attempts: readonly AttemptRecord[],
): Record<string, string> {
  const first = attempts[0];
  const fellBack =
    first !== undefined &&
    (first.providerId !== candidate.provider.id || first.model !== candidate.model.name);
  return {
    "x-switchboard-route": routeId,
    "x-switchboard-provider": candidate.provider.id,
    "x-switchboard-attempts": String(attempts.length),
    ...(fellBack ? { "x-switchboard-fallback": "true" } : {}),
  };
}
