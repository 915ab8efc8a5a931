import { describe, expect, it } from "vitest";
import {
  AccessDeniedException,
  BedrockRuntimeServiceException,
  InternalServerException,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from "@aws-sdk/client-bedrock-runtime";
import { mapBedrockError } from "../../../../../src/gateway/providers/bedrock/map-bedrock-error.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const live = new AbortController().signal;
const PROVIDER = "bedrock provider ai/test";

function serviceError(name: string, message: string, status: number): BedrockRuntimeServiceException {
  return new BedrockRuntimeServiceException({
    name,
    message,
    $fault: "client",
    $metadata: { httpStatusCode: status },
  });
}

describe("mapBedrockError", () => {
  it.each([
    [
      new ValidationException({
        message: "Input is too long for requested model.",
        $metadata: { httpStatusCode: 400 },
      }),
      "context_length_exceeded",
    ],
    [
      new ValidationException({
        message: "400 Bad Request: Too many input tokens. Max input tokens: 8192",
        $metadata: { httpStatusCode: 400 },
      }),
      "context_length_exceeded",
    ],
    [
      new ValidationException({
        message: "The provided model identifier is invalid.",
        $metadata: { httpStatusCode: 400 },
      }),
      "model_not_found",
    ],
    [
      new ValidationException({
        message: "A conversation must alternate between user and assistant roles.",
        $metadata: { httpStatusCode: 400 },
      }),
      "invalid_request",
    ],
    [
      new AccessDeniedException({
        message: "You don't have access to the model with the specified model ID.",
        $metadata: { httpStatusCode: 403 },
      }),
      "permission",
    ],
    [
      new AccessDeniedException({
        message: "Authentication failed: Please make sure your API Key is valid.",
        $metadata: { httpStatusCode: 403 },
      }),
      "authentication",
    ],
    [
      serviceError(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        403,
      ),
      "authentication",
    ],
    [
      serviceError("InvalidSignatureException", "The request signature we calculated does not match", 403),
      "authentication",
    ],
    [
      serviceError("ExpiredTokenException", "The security token included in the request is expired", 403),
      "authentication",
    ],
    [
      new ResourceNotFoundException({ message: "Model not found", $metadata: { httpStatusCode: 404 } }),
      "model_not_found",
    ],
    [
      new ThrottlingException({ message: "Too many requests", $metadata: { httpStatusCode: 429 } }),
      "rate_limit",
    ],
    [
      new ServiceQuotaExceededException({ message: "quota", $metadata: { httpStatusCode: 400 } }),
      "rate_limit",
    ],
    [new ModelTimeoutException({ message: "timed out", $metadata: { httpStatusCode: 408 } }), "timeout"],
    [
      new ServiceUnavailableException({ message: "unavailable", $metadata: { httpStatusCode: 503 } }),
      "upstream_unavailable",
    ],
    [
      new InternalServerException({ message: "internal", $metadata: { httpStatusCode: 500 } }),
      "upstream_unavailable",
    ],
    [
      new ModelNotReadyException({ message: "not ready", $metadata: { httpStatusCode: 429 } }),
      "upstream_unavailable",
    ],
    // Exception frames inside a 200 stream carry no HTTP status.
    [new ModelStreamErrorException({ message: "Model stream error", $metadata: {} }), "upstream_unavailable"],
    [new ThrottlingException({ message: "Too many tokens", $metadata: {} }), "rate_limit"],
    [serviceError("SomethingNewException", "teapot", 418), "upstream_unavailable"],
  ])("maps %s to %s", (err, errorClass) => {
    expect(mapBedrockError(err, PROVIDER, live).errorClass).toBe(errorClass);
  });

  it("never echoes upstream text for authentication and permission failures", () => {
    const denied = new AccessDeniedException({
      message:
        "User: arn:aws:sts::123456789012:assumed-role/gw/abc is not authorized to perform: bedrock:InvokeModel",
      $metadata: { httpStatusCode: 403 },
    });
    const err = mapBedrockError(denied, PROVIDER, live);
    expect(err.message).not.toContain("123456789012");
    expect(err.message).toMatch(/bedrock:InvokeModel/);
  });

  it("redacts secrets in upstream text it passes through", () => {
    const secret = "AKIAIOSFODNN7EXAMPLE";
    const err = mapBedrockError(
      new ValidationException({
        message: `bad header for ${secret} and my-own-secret-value`,
        $metadata: { httpStatusCode: 400 },
      }),
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
