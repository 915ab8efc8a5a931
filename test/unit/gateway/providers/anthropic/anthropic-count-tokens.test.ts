import { describe, expect, it } from "vitest";
import type { ChatRequest } from "../../../../../src/gateway/canonical/chat.js";
import {
  readAnthropicInputTokens,
  toAnthropicCountTokensBody,
} from "../../../../../src/gateway/providers/anthropic/anthropic-count-tokens.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const request: ChatRequest = {
  model: "claude-sonnet-4-5",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: [{ type: "text", text: "Weather in Paris?" }] },
  ],
  tools: [{ name: "get_weather", parameters: { type: "object", properties: {} } }],
  toolChoice: "required",
  maxTokens: 100,
  temperature: 0.5,
  topP: 0.9,
  stop: ["END"],
  user: "u-1",
};

describe("toAnthropicCountTokensBody", () => {
  it("keeps the prompt as a Messages call sends it and drops every generation setting", () => {
    expect(toAnthropicCountTokensBody(request, { includeModel: true, jsonSchema: "native" })).toEqual({
      model: "claude-sonnet-4-5",
      system: "Be brief.",
      messages: [{ role: "user", content: [{ type: "text", text: "Weather in Paris?" }] }],
      tools: [{ name: "get_weather", input_schema: { type: "object", properties: {} } }],
      tool_choice: { type: "any" },
    });
  });

  it("carries the body version Claude on Vertex needs, and a native JSON schema as output_config", () => {
    const body = toAnthropicCountTokensBody(
      { ...request, responseFormat: { type: "json_schema", name: "answer", schema: { type: "object" } } },
      { includeModel: true, anthropicVersion: "vertex-2023-10-16", jsonSchema: "native" },
    );
    expect(body.anthropic_version).toBe("vertex-2023-10-16");
    expect(body.output_config).toEqual({ format: { type: "json_schema", schema: { type: "object" } } });
    expect(body).not.toHaveProperty("max_tokens");
  });
});

describe("readAnthropicInputTokens", () => {
  it("reads input_tokens", () => {
    expect(readAnthropicInputTokens({ input_tokens: 42 }, "anthropic provider ai/claude")).toBe(42);
  });

  it.each([{}, { input_tokens: -1 }, { input_tokens: 2.5 }, { input_tokens: "7" }, null])(
    "rejects %j as an unusable answer",
    (body) => {
      let error: unknown;
      try {
        readAnthropicInputTokens(body, "anthropic provider ai/claude");
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).errorClass).toBe("upstream_unavailable");
      expect((error as GatewayError).message).toContain("anthropic provider ai/claude");
    },
  );
});
