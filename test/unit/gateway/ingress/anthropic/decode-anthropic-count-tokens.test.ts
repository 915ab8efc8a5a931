import { describe, expect, it } from "vitest";
import { decodeAnthropicCountTokensRequest } from "../../../../../src/gateway/ingress/anthropic/decode-anthropic-count-tokens.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

function decodeError(body: unknown): GatewayError {
  try {
    decodeAnthropicCountTokensRequest(body);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected the body to be rejected");
}

describe("decodeAnthropicCountTokensRequest", () => {
  it("decodes a Messages body without max_tokens, and carries no output limit", () => {
    const decoded = decodeAnthropicCountTokensRequest({
      model: "claude-route",
      system: "Be brief.",
      messages: [{ role: "user", content: "Hello" }],
    });
    expect(decoded.model).toBe("claude-route");
    expect(decoded.request.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Hello" }] },
    ]);
    expect(decoded.request.maxTokens).toBeUndefined();
  });

  it("ignores max_tokens and stream, which the count does not depend on", () => {
    const decoded = decodeAnthropicCountTokensRequest({
      model: "claude-route",
      max_tokens: 0,
      stream: "yes",
      messages: [{ role: "user", content: "Hello" }],
    });
    expect(decoded.request.maxTokens).toBeUndefined();
  });

  it("rejects what /v1/messages rejects, with the same wording", () => {
    expect(decodeError({ model: "claude-route" }).message).toBe("messages: is required");
    expect(
      decodeError({ model: "claude-route", messages: [{ role: "assistant", content: "Hi" }] }).message,
    ).toBe('messages.0.role: the first message must use the "user" role');
    expect(decodeError([]).message).toBe("the request body must be a JSON object");
  });
});
