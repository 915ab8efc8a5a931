import { describe, expect, it } from "vitest";
import {
  applyFieldSupport,
  initialFieldSupport,
  learnRejection,
  rejectedField,
} from "../../../../../src/gateway/providers/openai/request-field-support.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const invalid = (message: string, param?: string) =>
  new GatewayError("invalid_request", `p: ${message}`, { param, upstreamStatus: 400 });

describe("rejectedField", () => {
  const body = {
    messages: [],
    max_tokens: 5,
    stream: true,
    stream_options: { include_usage: true },
    parallel_tool_calls: false,
  };

  it("finds the field named by Azure, OpenAI and pydantic-style rejections", () => {
    expect(rejectedField(invalid("Unrecognized request argument supplied: stream_options"), body)).toBe(
      "stream_options",
    );
    expect(
      rejectedField(invalid("Unknown parameter: 'parallel_tool_calls'.", "parallel_tool_calls"), body),
    ).toBe("parallel_tool_calls");
    expect(
      rejectedField(
        invalid(
          "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
          "max_tokens",
        ),
        body,
      ),
    ).toBe("max_tokens");
    expect(
      rejectedField(invalid("1 validation error: stream_options Extra inputs are not permitted"), body),
    ).toBe("stream_options");
  });

  it("ignores errors about values, fields not in the body, and other error classes", () => {
    expect(
      rejectedField(
        invalid(
          "max_tokens is too large: 100000. This model supports at most 16384 completion tokens",
          "max_tokens",
        ),
        body,
      ),
    ).toBeUndefined();
    expect(
      rejectedField(invalid("Unrecognized request argument supplied: max_completion_tokens"), body),
    ).toBeUndefined();
    expect(
      rejectedField(
        new GatewayError("rate_limit", "Unrecognized request argument supplied: stream_options"),
        body,
      ),
    ).toBeUndefined();
    expect(
      rejectedField(new Error("Unrecognized request argument supplied: stream_options"), body),
    ).toBeUndefined();
  });
});

describe("applyFieldSupport", () => {
  it("drops rejected fields and moves the output limit to the accepted name", () => {
    const support = initialFieldSupport();
    const body = {
      messages: [],
      max_completion_tokens: 9,
      stream_options: { include_usage: true },
      parallel_tool_calls: true,
    };
    expect(applyFieldSupport(body, support)).toEqual(body);
    learnRejection(support, "stream_options");
    learnRejection(support, "parallel_tool_calls");
    learnRejection(support, "max_completion_tokens");
    expect(applyFieldSupport(body, support)).toEqual({ messages: [], max_tokens: 9 });
    learnRejection(support, "max_tokens");
    expect(applyFieldSupport({ max_tokens: 3 }, support)).toEqual({ max_completion_tokens: 3 });
  });
});
