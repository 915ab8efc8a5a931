import { describe, expect, it } from "vitest";
import * as BedrockRuntime from "@aws-sdk/client-bedrock-runtime";
import { mapBedrockError } from "../../../../../src/gateway/providers/bedrock/map-bedrock-error.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const live = new AbortController().signal;
const PROVIDER = "bedrock provider ai/test";

type ServiceExceptionClass = new (options: {
  message: string;
  $metadata: { httpStatusCode?: number };
}) => BedrockRuntime.BedrockRuntimeServiceException;

/**
 * What the SDK throws for a service exception: its own class for the exceptions it models, else
 * its base class with the name. Without a status, the exception came as a frame inside a 200 stream.
 */
function serviceError(
  name: string,
  message: string,
  status?: number,
): BedrockRuntime.BedrockRuntimeServiceException {
  const $metadata = { httpStatusCode: status };
  const modelled = (BedrockRuntime as Record<string, unknown>)[name];
  if (
    typeof modelled === "function" &&
    modelled.prototype instanceof BedrockRuntime.BedrockRuntimeServiceException
  ) {
    return new (modelled as ServiceExceptionClass)({ message, $metadata });
  }
  return new BedrockRuntime.BedrockRuntimeServiceException({ name, message, $fault: "client", $metadata });
}

describe("mapBedrockError", () => {
  it.each([
    ["ValidationException", "Input is too long for requested model.", 400, "context_length_exceeded"],
    [
      "ValidationException",
      "400 Bad Request: Too many input tokens. Max input tokens: 8192",
      400,
      "context_length_exceeded",
    ],
    ["ValidationException", "The provided model identifier is invalid.", 400, "model_not_found"],
    [
      "ValidationException",
      "A conversation must alternate between user and assistant roles.",
      400,
      "invalid_request",
    ],
    [
      "AccessDeniedException",
      "You don't have access to the model with the specified model ID.",
      403,
      "permission",
    ],
    [
      "AccessDeniedException",
      "Authentication failed: Please make sure your API Key is valid.",
      403,
      "authentication",
    ],
    [
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
      403,
      "authentication",
    ],
    [
      "InvalidSignatureException",
      "The request signature we calculated does not match",
      403,
      "authentication",
    ],
    ["ExpiredTokenException", "The security token included in the request is expired", 403, "authentication"],
    ["ResourceNotFoundException", "Model not found", 404, "model_not_found"],
    ["ThrottlingException", "Too many requests", 429, "rate_limit"],
    ["ServiceQuotaExceededException", "quota", 400, "rate_limit"],
    ["ModelTimeoutException", "timed out", 408, "timeout"],
    ["ServiceUnavailableException", "unavailable", 503, "upstream_unavailable"],
    ["InternalServerException", "internal", 500, "upstream_unavailable"],
    ["ModelNotReadyException", "not ready", 429, "upstream_unavailable"],
    // Exception frames inside a 200 stream carry no HTTP status.
    ["ModelStreamErrorException", "Model stream error", undefined, "upstream_unavailable"],
    ["ThrottlingException", "Too many tokens", undefined, "rate_limit"],
    ["SomethingNewException", "teapot", 418, "upstream_unavailable"],
  ] as const)("maps %s %j (HTTP %s) to %s", (name, message, status, errorClass) => {
    const err = serviceError(name, message, status);
    expect(err.name).toBe(name);
    expect(mapBedrockError(err, PROVIDER, live).errorClass).toBe(errorClass);
  });

  it("never echoes upstream text for authentication and permission failures", () => {
    const denied = serviceError(
      "AccessDeniedException",
      "User: arn:aws:sts::123456789012:assumed-role/gw/abc is not authorized to perform: bedrock:InvokeModel",
      403,
    );
    const err = mapBedrockError(denied, PROVIDER, live);
    expect(err.message).not.toContain("123456789012");
    expect(err.message).toMatch(/bedrock:InvokeModel/);
  });

  it("redacts secrets in upstream text it passes through", () => {
    const secret = "AKIAIOSFODNN7EXAMPLE";
    const err = mapBedrockError(
      serviceError("ValidationException", `bad header for ${secret} and my-own-secret-value`, 400),
      PROVIDER,
      live,
      ["my-own-secret-value"],
    );
    expect(err.message).not.toContain(secret);
    expect(err.message).not.toContain("my-own-secret-value");
  });

  it("separates the SDK's timeouts from reset connections it also calls TimeoutError", () => {
    const timeout = Object.assign(new Error("socket timed out"), { name: "TimeoutError" });
    expect(mapBedrockError(timeout, PROVIDER, live).errorClass).toBe("timeout");
    const reset = Object.assign(new Error("socket hang up"), { name: "TimeoutError", code: "ECONNRESET" });
    expect(mapBedrockError(reset, PROVIDER, live).errorClass).toBe("upstream_unavailable");
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(mapBedrockError(refused, PROVIDER, live).message).toContain("ECONNREFUSED");
  });

  it("reports a credential chain that found nothing as authentication, naming workload identity", () => {
    const err = mapBedrockError(
      Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      }),
      PROVIDER,
      live,
    );
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toMatch(/workload identity/);
  });

  it("keeps the abort reason when the call was cancelled", () => {
    const controller = new AbortController();
    const reason = new GatewayError("timeout", "total deadline passed");
    controller.abort(reason);
    expect(
      mapBedrockError(
        Object.assign(new Error("Request aborted"), { name: "AbortError" }),
        PROVIDER,
        controller.signal,
      ),
    ).toBe(reason);
  });

  it("reports undecodable responses as upstream_unavailable", () => {
    const err = mapBedrockError(
      new Error("The message checksum (1) did not match the expected value of 2"),
      PROVIDER,
      live,
    );
    expect(err.errorClass).toBe("upstream_unavailable");
  });
});
