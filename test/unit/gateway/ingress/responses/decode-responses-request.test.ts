import { describe, expect, it } from "vitest";
import { decodeResponsesRequest } from "../../../../../src/gateway/ingress/responses/decode-responses-request.js";
import { encodeResponsesResponse } from "../../../../../src/gateway/ingress/responses/encode-responses-response.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const decode = (body: Record<string, unknown>) => decodeResponsesRequest({ model: "m", ...body });

function refusal(body: Record<string, unknown>): GatewayError {
  try {
    decode(body);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected the request to be refused");
}

describe("decodeResponsesRequest", () => {
  it("reads a string input as one user message after the instructions", () => {
    const decoded = decode({
      input: "Hi",
      instructions: "Be brief",
      max_output_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
    });
    expect(decoded.request).toMatchObject({
      messages: [
        { role: "system", content: "Be brief" },
        { role: "user", content: [{ type: "text", text: "Hi" }] },
      ],
      maxTokens: 50,
      temperature: 0.2,
      topP: 0.9,
    });
    expect(decoded.stream).toBe(false);
  });

  it("turns a tool loop of items into an assistant turn and its tool results", () => {
    const decoded = decode({
      input: [
        { role: "developer", content: "Use tools" },
        { role: "user", content: [{ type: "input_text", text: "Weather in Lisbon and Porto?" }] },
        { type: "reasoning", id: "rs_1", summary: [{ type: "summary_text", text: "Two cities" }] },
        { role: "assistant", content: [{ type: "output_text", text: "Checking.", annotations: [] }] },
        { type: "function_call", call_id: "c1", name: "get_weather", arguments: '{"city":"Lisbon"}' },
        { type: "function_call", call_id: "c2", name: "get_weather", arguments: '{"city":"Porto"}' },
        { type: "function_call_output", call_id: "c1", output: "sunny" },
        { type: "function_call_output", call_id: "c2", output: [{ type: "input_text", text: "rain" }] },
      ],
    });
    expect(decoded.request.messages).toEqual([
      { role: "system", content: "Use tools" },
      { role: "user", content: [{ type: "text", text: "Weather in Lisbon and Porto?" }] },
      {
        role: "assistant",
        content: "Checking.",
        reasoning: [{ type: "thinking", text: "Two cities" }],
        toolCalls: [
          { id: "c1", name: "get_weather", arguments: '{"city":"Lisbon"}' },
          { id: "c2", name: "get_weather", arguments: '{"city":"Porto"}' },
        ],
      },
      { role: "tool", toolCallId: "c1", content: "sunny" },
      { role: "tool", toolCallId: "c2", content: "rain" },
    ]);
  });

  it("gives back a signed reasoning item exactly as the gateway sent it", () => {
    const signature = { origin: "anthropic", value: "sig-abc" };
    const sent = encodeResponsesResponse(
      {
        id: "x",
        model: "m",
        content: "",
        toolCalls: [{ id: "toolu_1", name: "f", arguments: "{}" }],
        reasoning: [{ type: "thinking", text: "hmm", signature }],
        finishReason: "tool_calls",
        rawFinishReason: "tool_use",
      },
      { id: "chatcmpl-ab12", created: 1, model: "m", includeUsage: true },
    );
    const output = sent.output as Array<Record<string, unknown>>;
    const decoded = decode({
      input: [
        { role: "user", content: "go" },
        ...output,
        { type: "function_call_output", call_id: "toolu_1", output: "ok" },
      ],
    });
    expect(decoded.request.messages[1]).toEqual({
      role: "assistant",
      content: "",
      reasoning: [{ type: "thinking", text: "hmm", signature }],
      toolCalls: [{ id: "toolu_1", name: "f", arguments: "{}" }],
    });
  });

  it("maps function tools, tool_choice, text.format and reasoning effort", () => {
    const decoded = decode({
      input: "x",
      tools: [{ type: "function", name: "f", parameters: { type: "object" }, strict: true }],
      tool_choice: { type: "function", name: "f" },
      text: { format: { type: "json_schema", name: "out", schema: { type: "object" }, strict: true } },
      reasoning: { effort: "low" },
      stream: true,
    });
    expect(decoded.request).toMatchObject({
      tools: [{ name: "f", parameters: { type: "object" } }],
      toolChoice: { name: "f" },
      responseFormat: { type: "json_schema", name: "out", schema: { type: "object" }, strict: true },
      reasoning: { enabled: true, effort: "low" },
    });
    expect(decoded.stream).toBe(true);
    expect(decode({ input: "x", text: { format: { type: "json_object" } } }).request.responseFormat).toEqual({
      type: "json_object",
    });
  });

  it.each([
    [{ previous_response_id: "resp_1" }, "previous_response_id"],
    [{ store: true }, "store"],
    [{ background: true }, "background"],
    [{ conversation: "conv_1" }, "conversation"],
  ])("refuses server-side state (%j) naming the field and what to do", (body, param) => {
    const error = refusal({ input: "x", ...body });
    expect(error.errorClass).toBe("invalid_request");
    expect(error.param).toBe(param);
    expect(error.message).toMatch(/keeps no responses.*send the whole conversation in input/);
  });

  it("accepts store: false and include reasoning.encrypted_content", () => {
    expect(() =>
      decode({ input: "x", store: false, include: ["reasoning.encrypted_content"] }),
    ).not.toThrow();
    expect(refusal({ input: "x", include: ["file_search_call.results"] }).param).toBe("include");
  });

  it("refuses built-in tools, naming the supported kind", () => {
    const error = refusal({ input: "x", tools: [{ type: "web_search_preview" }] });
    expect(error.param).toBe("tools[0].type");
    expect(error.message).toContain('"web_search_preview" is a built-in tool');
    expect(error.message).toContain("only function tools");
    expect(refusal({ input: "x", tool_choice: { type: "file_search" } }).param).toBe("tool_choice");
  });

  it("refuses items that need stored state, and tool results that answer nothing", () => {
    const reference = refusal({ input: [{ type: "item_reference", id: "msg_1" }] });
    expect(reference.param).toBe("input[0].type");
    expect(reference.message).toContain(
      "supported: message, function_call, function_call_output and reasoning",
    );
    const orphan = refusal({ input: [{ type: "function_call_output", call_id: "nope", output: "x" }] });
    expect(orphan.param).toBe("input[0].call_id");
  });

  it("names the field of a malformed item", () => {
    const error = refusal({ input: [{ type: "function_call", call_id: "c", arguments: "{}" }] });
    expect(error.param).toBe("input[0].name");
    expect(refusal({}).message).toMatch(/^input: is required/);
  });
});
