import { describe, expect, it } from "vitest";
import type { ChatRequest } from "../../../../../src/gateway/canonical/chat.js";
import {
  convertToOpenAiRequest,
  type OpenAiRequestOptions,
} from "../../../../../src/gateway/providers/openai/convert-to-openai-request.js";

const options: OpenAiRequestOptions = {
  stream: false,
  streamUsage: true,
  maxTokensField: "max_completion_tokens",
  includeModel: true,
};

describe("convertToOpenAiRequest", () => {
  it("asks reasoning models for an effort: as given, or the one a thinking budget amounts to", () => {
    const effortOf = (reasoning: ChatRequest["reasoning"]) =>
      convertToOpenAiRequest({ model: "o4-mini", messages: [], reasoning }, options).reasoning_effort;
    expect(effortOf({ enabled: true, effort: "minimal" })).toBe("minimal");
    expect(effortOf({ enabled: true, budgetTokens: 1024 })).toBe("low");
    expect(effortOf({ enabled: true, budgetTokens: 8192 })).toBe("medium");
    expect(effortOf({ enabled: true, budgetTokens: 30000 })).toBe("high");
    expect(effortOf({ enabled: true })).toBeUndefined();
    expect(effortOf({ enabled: false })).toBeUndefined();
    expect(effortOf(undefined)).toBeUndefined();
  });

  it("maps every message role, joining text-only user content into a string", () => {
    const request: ChatRequest = {
      model: "gpt-4o",
      messages: [
        { role: "system", content: "sys" },
        {
          role: "user",
          content: [
            { type: "text", text: "a" },
            { type: "text", text: "b" },
          ],
        },
        { role: "assistant", content: "", toolCalls: [{ id: "call_1", name: "f", arguments: "{}" }] },
        { role: "tool", toolCallId: "call_1", content: "result" },
        { role: "assistant", content: "done", toolCalls: [] },
      ],
    };
    expect(convertToOpenAiRequest(request, options).messages).toEqual([
      { role: "system", content: "sys" },
      { role: "user", content: "ab" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "call_1", content: "result" },
      { role: "assistant", content: "done" },
    ]);
  });

  it("sends images as image_url parts, inline data as a data URL", () => {
    const body = convertToOpenAiRequest(
      {
        model: "gpt-4o",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "what is this" },
              { type: "image", mediaType: "image/png", data: "iVBORw0" },
              { type: "image", url: "https://example.com/cat.jpg" },
            ],
          },
        ],
      },
      options,
    );
    expect(body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "what is this" },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0" } },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
        ],
      },
    ]);
  });

  it("puts the output limit in the configured field and leaves the model out for Azure", () => {
    const request: ChatRequest = { model: "dep", messages: [], maxTokens: 7 };
    expect(convertToOpenAiRequest(request, options)).toMatchObject({
      model: "dep",
      max_completion_tokens: 7,
    });
    const azure = convertToOpenAiRequest(request, {
      ...options,
      maxTokensField: "max_tokens",
      includeModel: false,
    });
    expect(azure).toEqual({ messages: [], max_tokens: 7 });
  });

  it("maps tools, tool choice, parallel tool calls and sampling options", () => {
    const body = convertToOpenAiRequest(
      {
        model: "m",
        messages: [],
        tools: [{ name: "f", description: "does f", parameters: { type: "object" } }],
        toolChoice: { name: "f" },
        parallelToolCalls: false,
        temperature: 0,
        topP: 0.5,
        stop: ["END"],
        user: "u-1",
      },
      options,
    );
    expect(body).toMatchObject({
      tools: [
        { type: "function", function: { name: "f", description: "does f", parameters: { type: "object" } } },
      ],
      tool_choice: { type: "function", function: { name: "f" } },
      parallel_tool_calls: false,
      temperature: 0,
      top_p: 0.5,
      stop: ["END"],
      user: "u-1",
    });
    expect(
      convertToOpenAiRequest({ model: "m", messages: [], parallelToolCalls: true }, options),
    ).not.toHaveProperty("parallel_tool_calls");
  });

  it("maps JSON mode and JSON schema response formats", () => {
    expect(
      convertToOpenAiRequest({ model: "m", messages: [], responseFormat: { type: "json_object" } }, options)
        .response_format,
    ).toEqual({ type: "json_object" });
    expect(
      convertToOpenAiRequest(
        {
          model: "m",
          messages: [],
          responseFormat: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true },
        },
        options,
      ).response_format,
    ).toEqual({
      type: "json_schema",
      json_schema: { name: "answer", schema: { type: "object" }, strict: true },
    });
  });

  it("asks for stream usage only when streaming and wanted", () => {
    const request: ChatRequest = { model: "m", messages: [] };
    expect(convertToOpenAiRequest(request, { ...options, stream: true })).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(
      convertToOpenAiRequest(request, { ...options, stream: true, streamUsage: false }),
    ).not.toHaveProperty("stream_options");
    expect(convertToOpenAiRequest(request, options)).not.toHaveProperty("stream");
  });
});
