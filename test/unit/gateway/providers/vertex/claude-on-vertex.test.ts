import { describe, expect, it } from "vitest";
import {
  convertToClaudeOnVertexRequest,
  isClaudeModel,
  mapClaudeOnVertexError,
} from "../../../../../src/gateway/providers/vertex/claude-on-vertex.js";
import type { CompiledProvider } from "../../../../../src/shared/schemas/gateway-config.js";

const provider = {
  models: [
    {
      name: "sonnet",
      upstreamModel: "claude-sonnet-4-5@20250929",
      kind: "chat",
      maxOutputTokens: 512,
      supportsTools: true,
    },
  ],
} as unknown as CompiledProvider;

describe("Claude on Vertex", () => {
  it("recognises Claude models by their upstream id", () => {
    expect(isClaudeModel("claude-sonnet-4-5@20250929")).toBe(true);
    expect(isClaudeModel("gemini-2.5-flash")).toBe(false);
  });

  it("builds a Messages body with the Vertex version and without the model", () => {
    const body = convertToClaudeOnVertexRequest(
      {
        model: "claude-sonnet-4-5@20250929",
        messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
      },
      provider,
      true,
    );
    expect(body).toMatchObject({ anthropic_version: "vertex-2023-10-16", max_tokens: 512, stream: true });
    expect(body).not.toHaveProperty("model");
  });

  it("maps Anthropic bodies with Anthropic's rules and Google bodies with Google's", () => {
    const anthropic = JSON.stringify({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });
    expect(mapClaudeOnVertexError(529, {}, anthropic, "p", []).errorClass).toBe("upstream_unavailable");
    const tooLong = JSON.stringify({
      type: "error",
      error: { type: "invalid_request_error", message: "prompt is too long: 300000 tokens > 200000 maximum" },
    });
    expect(mapClaudeOnVertexError(400, {}, tooLong, "p", []).errorClass).toBe("context_length_exceeded");
    const google = JSON.stringify({
      error: { code: 404, status: "NOT_FOUND", message: "Publisher Model not found." },
    });
    expect(mapClaudeOnVertexError(404, {}, google, "p", []).errorClass).toBe("model_not_found");
  });
});
