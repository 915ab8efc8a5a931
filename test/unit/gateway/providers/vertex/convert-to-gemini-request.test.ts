import { describe, expect, it } from "vitest";
import type { ChatMessage, ChatRequest } from "../../../../../src/gateway/canonical/chat.js";
import { convertToGeminiRequest } from "../../../../../src/gateway/providers/vertex/convert-to-gemini-request.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const user = (text: string): ChatMessage => ({ role: "user", content: [{ type: "text", text }] });
const request = (overrides: Partial<ChatRequest>): ChatRequest => ({
  model: "gemini-2.5-flash",
  messages: [user("hi")],
  ...overrides,
});

describe("convertToGeminiRequest", () => {
  it("puts system messages in systemInstruction and maps roles to user/model", () => {
    const body = convertToGeminiRequest(
      request({
        messages: [
          { role: "system", content: "Be brief." },
          user("hi"),
          { role: "assistant", content: "hello", toolCalls: [] },
          user("again"),
        ],
      }),
    );
    expect(body.systemInstruction).toEqual({ parts: [{ text: "Be brief." }] });
    expect(body.contents).toEqual([
      { role: "user", parts: [{ text: "hi" }] },
      { role: "model", parts: [{ text: "hello" }] },
      { role: "user", parts: [{ text: "again" }] },
    ]);
    expect(body).not.toHaveProperty("generationConfig");
  });

  it("answers tool calls with functionResponse parts named after the call, in call order, merged into one user turn", () => {
    const body = convertToGeminiRequest(
      request({
        messages: [
          user("weather in Oslo and Rome?"),
          {
            role: "assistant",
            content: "",
            toolCalls: [
              { id: "call_a", name: "get_weather", arguments: '{"city":"Oslo"}' },
              { id: "call_b", name: "get_time", arguments: '{"city":"Rome"}' },
            ],
          },
          { role: "tool", toolCallId: "call_b", content: "clock unavailable", isError: true },
          { role: "tool", toolCallId: "call_a", content: '{"temperature":3}' },
          user("and tomorrow?"),
        ],
      }),
    );
    expect(body.contents[1]).toEqual({
      role: "model",
      parts: [
        // Calls Gemini did not sign get Google's stand-in on a step's first call.
        {
          functionCall: { name: "get_weather", args: { city: "Oslo" } },
          thoughtSignature: "skip_thought_signature_validator",
        },
        { functionCall: { name: "get_time", args: { city: "Rome" } } },
      ],
    });
    expect(body.contents[2]).toEqual({
      role: "user",
      parts: [
        // Vertex pairs responses with calls by position: answered b then a, they go in as a, b.
        { functionResponse: { name: "get_weather", response: { temperature: 3 } } },
        { functionResponse: { name: "get_time", response: { error: "clock unavailable" } } },
        { text: "and tomorrow?" },
      ],
    });
  });

  it("wraps plain-text tool output under `output`", () => {
    const body = convertToGeminiRequest(
      request({
        messages: [
          user("x"),
          { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "f", arguments: "" }] },
          { role: "tool", toolCallId: "c1", content: "42" },
        ],
      }),
    );
    expect(body.contents[2]!.parts).toEqual([
      { functionResponse: { name: "f", response: { output: "42" } } },
    ]);
  });

  it("gives back Gemini's own thought signatures where Gemini put them, and no other provider's", () => {
    const call = (id: string, origin?: string) => ({
      id,
      name: "f",
      arguments: "{}",
      ...(origin ? { signature: { origin, value: `sig-${id}` } } : {}),
    });
    const body = convertToGeminiRequest(
      request({
        messages: [
          user("x"),
          { role: "assistant", content: "", toolCalls: [call("a", "gemini"), call("b")] },
          { role: "tool", toolCallId: "a", content: "1" },
          { role: "tool", toolCallId: "b", content: "2" },
          { role: "assistant", content: "", toolCalls: [call("c", "anthropic")] },
          { role: "tool", toolCallId: "c", content: "3" },
        ],
      }),
    );
    expect(body.contents[1]!.parts).toEqual([
      { functionCall: { name: "f", args: {} }, thoughtSignature: "sig-a" },
      { functionCall: { name: "f", args: {} } },
    ]);
    expect(body.contents[3]!.parts).toEqual([
      { functionCall: { name: "f", args: {} }, thoughtSignature: "skip_thought_signature_validator" },
    ]);
  });

  it("refuses a tool result whose call id no earlier assistant message made", () => {
    expect(() =>
      convertToGeminiRequest(
        request({ messages: [user("x"), { role: "tool", toolCallId: "call_missing", content: "1" }] }),
      ),
    ).toThrow(GatewayError);
  });

  it("sends images inline or by URI", () => {
    const body = convertToGeminiRequest(
      request({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "compare" },
              { type: "image", url: "data:image/png;base64,AAAA" },
              { type: "image", url: "gs://bucket/cat.webp" },
              { type: "image", data: "BBBB", mediaType: "image/jpeg" },
            ],
          },
        ],
      }),
    );
    expect(body.contents[0]!.parts).toEqual([
      { text: "compare" },
      { inlineData: { mimeType: "image/png", data: "AAAA" } },
      { fileData: { mimeType: "image/webp", fileUri: "gs://bucket/cat.webp" } },
      { inlineData: { mimeType: "image/jpeg", data: "BBBB" } },
    ]);
  });

  it("maps tools, tool choice and generation settings", () => {
    const tools = [
      {
        name: "lookup",
        description: "Find",
        parameters: { type: "object", properties: { q: { type: "string" } } },
      },
    ];
    const body = convertToGeminiRequest(
      request({
        tools,
        toolChoice: { name: "lookup" },
        maxTokens: 10,
        temperature: 0.5,
        topP: 0.9,
        stop: ["END"],
        responseFormat: { type: "json_object" },
      }),
    );
    expect(body.tools).toEqual([
      { functionDeclarations: [{ name: "lookup", description: "Find", parameters: tools[0]!.parameters }] },
    ]);
    expect(body.toolConfig).toEqual({
      functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["lookup"] },
    });
    expect(body.generationConfig).toEqual({
      maxOutputTokens: 10,
      temperature: 0.5,
      topP: 0.9,
      stopSequences: ["END"],
      responseMimeType: "application/json",
    });
    expect(convertToGeminiRequest(request({ tools, toolChoice: "required" })).toolConfig).toEqual({
      functionCallingConfig: { mode: "ANY" },
    });
    expect(convertToGeminiRequest(request({ tools, toolChoice: "none" })).toolConfig).toEqual({
      functionCallingConfig: { mode: "NONE" },
    });
  });

  it("sends a json_schema response format as responseSchema", () => {
    const body = convertToGeminiRequest(
      request({
        responseFormat: {
          type: "json_schema",
          name: "r",
          schema: { type: "object", properties: { a: { type: "string" } }, additionalProperties: false },
        },
      }),
    );
    expect(body.generationConfig).toEqual({
      responseMimeType: "application/json",
      responseSchema: { type: "object", properties: { a: { type: "string" } } },
    });
  });
});
