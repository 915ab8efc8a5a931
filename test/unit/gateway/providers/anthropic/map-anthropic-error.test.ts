import { describe, expect, it } from "vitest";
import { mapAnthropicError } from "../../../../../src/gateway/providers/anthropic/map-anthropic-error.js";
import { itMapsUpstreamErrorsSafely } from "../upstream-error-mapper-contract.js";

const TYPE_BY_STATUS = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  429: "rate_limit_error",
} as const;
const body = (type: string, message: string) =>
  JSON.stringify({ type: "error", error: { type, message }, request_id: "req_1" });

describe("mapAnthropicError", () => {
  it.each([
    [400, "invalid_request_error", "max_tokens: Field required", "invalid_request"],
    [
      400,
      "invalid_request_error",
      "prompt is too long: 208310 tokens > 200000 maximum",
      "context_length_exceeded",
    ],
    [
      400,
      "invalid_request_error",
      "input length and `max_tokens` exceed context limit: 197202 + 21333 > 200000, decrease input length or `max_tokens` and try again",
      "context_length_exceeded",
    ],
    [401, "authentication_error", "invalid x-api-key", "authentication"],
    [402, "billing_error", "Your credit balance is too low", "upstream_unavailable"],
    [403, "permission_error", "Your API key does not have permission", "permission"],
    [404, "not_found_error", "model: claude-nope", "model_not_found"],
    [413, "request_too_large", "Request exceeds the maximum allowed number of bytes", "request_too_large"],
    [
      429,
      "rate_limit_error",
      "Number of request tokens has exceeded your per-minute rate limit",
      "rate_limit",
    ],
    [500, "api_error", "Internal server error", "upstream_unavailable"],
    [504, "timeout_error", "Request timed out", "timeout"],
    [529, "overloaded_error", "Overloaded", "upstream_unavailable"],
  ])("HTTP %i %s → %s", (status, type, message, errorClass) => {
    expect(mapAnthropicError(status, {}, body(type, message), "p").errorClass).toBe(errorClass);
  });

  it("labels upstream text with the Anthropic error type", () => {
    expect(
      mapAnthropicError(429, {}, body("rate_limit_error", "slow down"), "anthropic provider a/b").message,
    ).toBe("anthropic provider a/b (rate_limit_error): slow down");
  });

  itMapsUpstreamErrorsSafely({
    map: mapAnthropicError,
    body: (status, message) => body(TYPE_BY_STATUS[status], message),
    credentialsHint:
      /rejected the gateway's credentials \(HTTP 40[13]\); check the API key of its LLMProvider/,
    everyField: (_status, value) => JSON.stringify({ type: "error", error: { type: value, message: value } }),
  });
});
