import { describe, expect, it } from "vitest";
import { mapAnthropicError } from "../../../../../src/gateway/providers/anthropic/map-anthropic-error.js";

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

  it("keeps retry-after and the upstream status", () => {
    const err = mapAnthropicError(
      429,
      { "retry-after": "7" },
      body("rate_limit_error", "slow down"),
      "anthropic provider a/b",
    );
    expect(err.retryAfterSeconds).toBe(7);
    expect(err.upstreamStatus).toBe(429);
    expect(err.message).toBe("anthropic provider a/b (rate_limit_error): slow down");
  });

  it("never echoes upstream text for credential errors", () => {
    const err = mapAnthropicError(
      401,
      {},
      body("authentication_error", "invalid x-api-key sk-ant-api03-leaky-key-123"),
      "anthropic provider a/b",
    );
    expect(err.message).not.toContain("leaky");
    expect(err.message).toMatch(
      /rejected the gateway's credentials \(HTTP 401\); check the API key of its LLMProvider/,
    );
  });

  it("redacts known secrets and key-shaped text from other errors", () => {
    const err = mapAnthropicError(
      400,
      {},
      body("invalid_request_error", "bad value my-own-secret-value and sk-ant-abcdefghijkl"),
      "p",
      ["my-own-secret-value"],
    );
    expect(err.message).not.toContain("my-own-secret-value");
    expect(err.message).not.toContain("sk-ant-abcdefghijkl");
  });

  it("falls back to the status for bodies that are not Anthropic errors", () => {
    const err = mapAnthropicError(503, {}, "<html>Service Unavailable</html>", "p");
    expect(err.errorClass).toBe("upstream_unavailable");
    expect(err.message).toContain("Service Unavailable");
    expect(mapAnthropicError(404, {}, "", "p").errorClass).toBe("model_not_found");
  });
});
