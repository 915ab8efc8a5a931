import { describe, expect, it } from "vitest";
import { mapGoogleError } from "../../../../../src/gateway/providers/vertex/map-google-error.js";
import { itMapsUpstreamErrorsSafely } from "../upstream-error-mapper-contract.js";

const NAME = "vertex provider ai/vertex";
const STATUS_BY_CODE = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  429: "RESOURCE_EXHAUSTED",
} as const;
const body = (code: number, status: string, message: string, details?: unknown[]): string =>
  JSON.stringify({ error: { code, status, message, ...(details ? { details } : {}) } });

describe("mapGoogleError", () => {
  it.each([
    [400, "INVALID_ARGUMENT", "Request contains an invalid argument.", "invalid_request"],
    [
      400,
      "INVALID_ARGUMENT",
      "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).",
      "context_length_exceeded",
    ],
    [401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", "authentication"],
    [403, "PERMISSION_DENIED", "Permission 'aiplatform.endpoints.predict' denied.", "permission"],
    [404, "NOT_FOUND", "Publisher Model `x` was not found.", "model_not_found"],
    [429, "RESOURCE_EXHAUSTED", "Resource exhausted.", "rate_limit"],
    [504, "DEADLINE_EXCEEDED", "Deadline expired.", "timeout"],
    [503, "UNAVAILABLE", "The service is currently unavailable.", "upstream_unavailable"],
    [500, "INTERNAL", "Internal error encountered.", "upstream_unavailable"],
  ])("%i %s → %s", (code, status, message, expected) => {
    expect(mapGoogleError(code, {}, body(code, status, message), NAME).errorClass).toBe(expected);
  });

  it("takes the retry delay from google.rpc.RetryInfo", () => {
    const retryInfo = [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "12.5s" }];
    expect(
      mapGoogleError(429, {}, body(429, "RESOURCE_EXHAUSTED", "slow down", retryInfo), NAME)
        .retryAfterSeconds,
    ).toBe(13);
  });

  it("reads the array-wrapped body of JSON-array streams", () => {
    expect(mapGoogleError(429, {}, `[${body(429, "RESOURCE_EXHAUSTED", "x")}]`, NAME).errorClass).toBe(
      "rate_limit",
    );
  });

  itMapsUpstreamErrorsSafely({
    map: mapGoogleError,
    body: (code, message) => body(code, STATUS_BY_CODE[code], message),
    credentialsHint:
      /check the credentials of its LLMProvider and that the service account has the Vertex AI User role/,
    everyField: (code, value) =>
      JSON.stringify({
        error: {
          code,
          message: value,
          status: value,
          details: [{ "@type": value, reason: value, retryDelay: value }],
        },
      }),
  });
});
