import { describe, expect, it } from "vitest";
import { mapOpenAiError } from "../../../../../src/gateway/providers/openai/map-openai-error.js";
import { itMapsUpstreamErrorsSafely } from "../upstream-error-mapper-contract.js";

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

  it.each([
    ["a code, before the status", 400, "context_length_exceeded", { code: "context_length_exceeded" }],
    ["insufficient_quota", 429, "rate_limit", { message: "quota", code: "insufficient_quota" }],
    [
      "Azure's DeploymentNotFound",
      404,
      "model_not_found",
      { code: "DeploymentNotFound", message: "The API deployment for this resource does not exist." },
    ],
    ["a bare 403", 403, "permission", { message: "not allowed" }],
    ["a bare 500", 500, "upstream_unavailable", { message: "boom" }],
    [
      "Azure's prompt filter by innererror",
      400,
      "content_filter",
      { message: "x", innererror: { code: "ResponsibleAIPolicyViolation" } },
    ],
    ["vLLM's plain-string auth error", 401, "authentication", "Unauthorized"],
    [
      "Ollama's context length text",
      400,
      "context_length_exceeded",
      { message: "the input length exceeds the context length" },
    ],
  ])("classifies %s (HTTP %i) as %s", (_what, status, errorClass, error) => {
    expect(map(status, { error }).errorClass).toBe(errorClass);
  });

  it("keeps the param of Azure's prompt filter error", () => {
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
  });

  it("reads vLLM's bare top-level error object", () => {
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
  });

  it("prefers Azure's retry-after-ms to retry-after, rounding up to whole seconds", () => {
    expect(
      map(
        429,
        { error: { code: "429", message: "slow down" } },
        { "retry-after": "10", "retry-after-ms": "1200" },
      ).retryAfterSeconds,
    ).toBe(2);
  });

  itMapsUpstreamErrorsSafely({
    map: mapOpenAiError,
    body: (_status, message) =>
      JSON.stringify({ error: { message, type: "invalid_request_error", code: null } }),
    credentialsHint:
      /rejected the gateway's credentials \(HTTP 40[13]\); check the credentials of its LLMProvider/,
    everyField: (_status, value) =>
      JSON.stringify({ error: { message: value, type: value, param: value, code: value } }),
  });
});
