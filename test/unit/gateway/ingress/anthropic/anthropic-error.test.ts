import { describe, expect, it } from "vitest";
import {
  renderAnthropicError,
  renderAnthropicStreamError,
} from "../../../../../src/gateway/ingress/anthropic/anthropic-error.js";
import { GatewayError, type ErrorClass } from "../../../../../src/shared/errors.js";

describe("renderAnthropicError", () => {
  it.each<[ErrorClass, number, string]>([
    ["invalid_request", 400, "invalid_request_error"],
    ["authentication", 401, "authentication_error"],
    ["permission", 403, "permission_error"],
    ["policy_violation", 403, "permission_error"],
    ["model_not_found", 404, "not_found_error"],
    ["not_found", 404, "not_found_error"],
    ["request_too_large", 413, "request_too_large"],
    ["rate_limit", 429, "rate_limit_error"],
    ["context_length_exceeded", 400, "invalid_request_error"],
    ["content_filter", 400, "invalid_request_error"],
    ["timeout", 504, "timeout_error"],
    ["upstream_unavailable", 529, "overloaded_error"],
    ["internal", 500, "api_error"],
  ])("renders %s as HTTP %i %s, with the gateway's class as code", (errorClass, status, type) => {
    const rendered = renderAnthropicError(new GatewayError(errorClass, "what went wrong"));
    expect(rendered).toEqual({
      status,
      headers: {},
      body: { type: "error", error: { type, code: errorClass, message: "what went wrong" } },
    });
  });

  it("sends retry-after when the error knows it", () => {
    const rendered = renderAnthropicError(
      new GatewayError("rate_limit", "slow down", { retryAfterSeconds: 7 }),
    );
    expect(rendered.headers).toEqual({ "retry-after": "7" });
  });
});

describe("renderAnthropicStreamError", () => {
  it("renders Anthropic's error event", () => {
    expect(renderAnthropicStreamError(new GatewayError("upstream_unavailable", "openai: stream broke"))).toBe(
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","code":"upstream_unavailable","message":"openai: stream broke"}}\n\n',
    );
  });
});
