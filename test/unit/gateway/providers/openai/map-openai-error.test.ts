import { describe, expect, it } from "vitest";
import { mapOpenAiError } from "../../../../../src/gateway/providers/openai/map-openai-error.js";

const name = "openai provider ns/p";
const map = (status: number, body: unknown, headers: Record<string, string> = {}, secrets: string[] = []) =>
  mapOpenAiError(status, headers, typeof body === "string" ? body : JSON.stringify(body), name, secrets);

describe("mapOpenAiError", () => {
  it("never passes on the masked key OpenAI echoes in its 401", () => {
    const err = map(401, {
      error: {
        message:
          "Incorrect API key provided: sk-abc***********xyz9. You can find your API key at https://platform.openai.com/account/api-keys.",
        type: "invalid_request_error",
        param: null,
        code: "invalid_api_key",
      },
    });
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toBe(
      `${name} rejected the gateway's credentials (HTTP 401); check the credentials of its LLMProvider`,
    );
  });

  it("classifies by code before status", () => {
    expect(map(400, { error: { message: "too long", code: "context_length_exceeded" } }).errorClass).toBe(
      "context_length_exceeded",
    );
    expect(map(429, { error: { message: "quota", code: "insufficient_quota" } }).errorClass).toBe(
      "rate_limit",
    );
    expect(
      map(404, {
        error: {
          code: "DeploymentNotFound",
          message: "The API deployment for this resource does not exist.",
        },
      }).errorClass,
    ).toBe("model_not_found");
    expect(map(403, { error: { message: "not allowed" } }).errorClass).toBe("permission");
    expect(map(500, { error: { message: "boom" } }).errorClass).toBe("upstream_unavailable");
  });

  it("recognises Azure's prompt filter by code and by innererror", () => {
    const body = {
      error: {
        message: "filtered",
        type: null,
        param: "prompt",
        code: "content_filter",
        status: 400,
        innererror: { code: "ResponsibleAIPolicyViolation" },
      },
    };
    expect(map(400, body)).toMatchObject({
      errorClass: "content_filter",
      param: "prompt",
      upstreamStatus: 400,
    });
    expect(
      map(400, { error: { message: "x", innererror: { code: "ResponsibleAIPolicyViolation" } } }).errorClass,
    ).toBe("content_filter");
  });

  it("reads vLLM's bare top-level error object and its plain-string auth error", () => {
    const err = map(400, {
      object: "error",
      message: "This model's maximum context length is 4096 tokens.",
      type: "BadRequestError",
      param: null,
      code: 400,
    });
    expect(err).toMatchObject({
      errorClass: "context_length_exceeded",
      message: `${name}: This model's maximum context length is 4096 tokens.`,
    });
    expect(map(401, { error: "Unauthorized" }).errorClass).toBe("authentication");
    expect(map(400, { error: { message: "the input length exceeds the context length" } }).errorClass).toBe(
      "context_length_exceeded",
    );
  });

  it("prefers Azure's retry-after-ms to retry-after, rounding up to whole seconds", () => {
    expect(
      map(
        429,
        { error: { code: "429", message: "slow down" } },
        { "retry-after": "10", "retry-after-ms": "1200" },
      ).retryAfterSeconds,
    ).toBe(2);
    expect(
      map(429, { error: { code: "429", message: "slow down" } }, { "retry-after": "10" }).retryAfterSeconds,
    ).toBe(10);
  });

  it("redacts secrets from upstream text and keeps non-JSON bodies short", () => {
    const err = map(
      400,
      { error: { message: "bad header Bearer abcdefghijklmnop and key my-known-secret-1" } },
      {},
      ["my-known-secret-1"],
    );
    expect(err.message).toBe(`${name}: bad header [REDACTED] and key [REDACTED]`);
    const html = map(502, `<html>${"x".repeat(1000)}</html>`);
    expect(html.errorClass).toBe("upstream_unavailable");
    expect(html.message.length).toBeLessThan(400);
  });
});
