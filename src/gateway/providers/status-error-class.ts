import type { ErrorClass } from "../../shared/errors.js";

/** The class an upstream HTTP status implies when the body says nothing more specific. */
export function errorClassForStatus(status: number): ErrorClass {
  if (status === 400 || status === 422) return "invalid_request";
  if (status === 401) return "authentication";
  if (status === 403) return "permission";
  if (status === 404) return "model_not_found";
  if (status === 408 || status === 504) return "timeout";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit";
  return "upstream_unavailable";
}
