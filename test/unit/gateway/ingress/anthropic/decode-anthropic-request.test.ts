import { describe, expect, it } from "vitest";
import { decodeAnthropicRequest } from "../../../../../src/gateway/ingress/anthropic/decode-anthropic-request.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const base = { model: "claude-route", max_tokens: 256, messages: [{ role: "user", content: "Hello" }] };
const weatherTool = {
  name: "get_weather",
  description: "Weather by city",
  input_schema: { type: "object", properties: { city: { type: "string" } } },
};

function decodeError(body: unknown): GatewayError {
  try {
    decodeAnthropicRequest(body);
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected the body to be rejected");
}

describe("decodeAnthropicRequest", () => {
  it("decodes a minimal request; usage is always included", () => {
    expect(decodeAnthropicRequest(base)).toEqual({
      model: "claude-route",
      stream: false,
      includeUsage: true,
      request: {
        messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }],
        maxTokens: 256,
      },
    });
  });

  it("maps system blocks, sampling, stop sequences, metadata.user_id and stream; top_k is dropped", () => {
    const decoded = decodeAnthropicRequest({
      ...base,
      system: [
        { type: "text", text: "You are terse." },
        { type: "text", text: "Answer in French.", cache_control: { type: "ephemeral" } },
      ],
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ["END"],
      metadata: { user_id: "user-42" },
      stream: true,
    });
    expect(decoded.stream).toBe(true);
    expect(decoded.includeUsage).toBe(true);
    expect(decoded.request.messages[0]).toEqual({
      role: "system",
      content: "You are terse.\nAnswer in French.",
    });
    expect(decoded.request).toMatchObject({
      temperature: 0.2,
      topP: 0.9,
      stop: ["END"],
      user: "user-42",
      maxTokens: 256,
    });
    expect(JSON.stringify(decoded.request)).not.toContain("40");
  });

  it("turns a tool conversation into canonical assistant tool calls and tool messages before the user's text", () => {
    const decoded = decodeAnthropicRequest({
      ...base,
      tools: [weatherTool],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Weather in Paris and Rome?" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
            { type: "image", source: { type: "url", url: "https://example.com/map.png" } },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Checking both." },
            { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
            { type: "tool_use", id: "toolu_2", name: "get_weather", input: { city: "Rome" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "18C" },
            {
              type: "tool_result",
              tool_use_id: "toolu_2",
              content: [
                { type: "text", text: "no data" },
                { type: "text", text: "retry later" },
              ],
              is_error: true,
            },
            { type: "text", text: "And tomorrow?" },
          ],
        },
      ],
    });
    expect(decoded.request.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "Weather in Paris and Rome?" },
          { type: "image", mediaType: "image/png", data: "iVBORw0KGgo=" },
          { type: "image", url: "https://example.com/map.png" },
        ],
      },
      {
        role: "assistant",
        content: "Checking both.",
        toolCalls: [
          { id: "toolu_1", name: "get_weather", arguments: '{"city":"Paris"}' },
          { id: "toolu_2", name: "get_weather", arguments: '{"city":"Rome"}' },
        ],
      },
      { role: "tool", toolCallId: "toolu_1", content: "18C" },
      { role: "tool", toolCallId: "toolu_2", content: "no data\nretry later", isError: true },
      { role: "user", content: [{ type: "text", text: "And tomorrow?" }] },
    ]);
    expect(decoded.request.tools).toEqual([
      { name: "get_weather", description: "Weather by city", parameters: weatherTool.input_schema },
    ]);
  });

  it("merges consecutive same-role messages into one turn, as Anthropic does, and drops empty text blocks", () => {
    const decoded = decodeAnthropicRequest({
      ...base,
      messages: [
        { role: "user", content: "First" },
        {
          role: "user",
          content: [
            { type: "text", text: "" },
            { type: "text", text: "Second" },
          ],
        },
        { role: "assistant", content: "Part one. " },
        { role: "assistant", content: [{ type: "text", text: "Part two." }] },
        { role: "user", content: "Go on" },
        { role: "assistant", content: "" },
      ],
    });
    expect(decoded.request.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "First" },
          { type: "text", text: "Second" },
        ],
      },
      { role: "assistant", content: "Part one. Part two.", toolCalls: [] },
      { role: "user", content: [{ type: "text", text: "Go on" }] },
    ]);
  });

  it("keeps a final assistant message as prefill", () => {
    const decoded = decodeAnthropicRequest({
      ...base,
      messages: [
        { role: "user", content: "Pick A or B" },
        { role: "assistant", content: "The answer is (" },
      ],
    });
    expect(decoded.request.messages.at(-1)).toEqual({
      role: "assistant",
      content: "The answer is (",
      toolCalls: [],
    });
  });

  it.each<[unknown, { toolChoice: unknown; parallelToolCalls?: boolean }]>([
    [{ type: "auto" }, { toolChoice: "auto" }],
    [
      { type: "auto", disable_parallel_tool_use: true },
      { toolChoice: "auto", parallelToolCalls: false },
    ],
    [
      { type: "any", disable_parallel_tool_use: false },
      { toolChoice: "required", parallelToolCalls: true },
    ],
    [{ type: "tool", name: "get_weather" }, { toolChoice: { name: "get_weather" } }],
    [{ type: "none" }, { toolChoice: "none" }],
  ])("maps tool_choice %j", (toolChoice, expected) => {
    const decoded = decodeAnthropicRequest({ ...base, tools: [weatherTool], tool_choice: toolChoice });
    expect(decoded.request.toolChoice).toEqual(expected.toolChoice);
    expect(decoded.request.parallelToolCalls).toBe(expected.parallelToolCalls);
  });

  const userSays = (content: unknown) => ({ ...base, messages: [{ role: "user", content }] });
  const afterToolUse = (reply: unknown) => ({
    ...base,
    messages: [
      { role: "user", content: "Weather?" },
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }],
      },
      { role: "user", content: reply },
    ],
  });

  it.each<[string, unknown, string, string | undefined]>([
    ["a non-object body", [], "the request body must be a JSON object", undefined],
    ["a missing model", { ...base, model: undefined }, "model: is required", "model"],
    ["a missing max_tokens", { ...base, max_tokens: undefined }, "max_tokens: is required", "max_tokens"],
    ["max_tokens 0", { ...base, max_tokens: 0 }, "max_tokens: must be at least 1", "max_tokens"],
    [
      "a fractional max_tokens",
      { ...base, max_tokens: 1.5 },
      "max_tokens: must be a whole number",
      "max_tokens",
    ],
    ["a string max_tokens", { ...base, max_tokens: "10" }, "max_tokens: must be a number", "max_tokens"],
    ["empty messages", { ...base, messages: [] }, "messages: must contain at least one message", "messages"],
    [
      "a system role in messages",
      { ...base, messages: [{ role: "system", content: "Be terse" }] },
      'messages.0.role: must be "user" or "assistant" (a system prompt goes in the top-level system field)',
      "messages.0.role",
    ],
    [
      "an assistant first message",
      {
        ...base,
        messages: [
          { role: "assistant", content: "Hi" },
          { role: "user", content: "Hello" },
        ],
      },
      'messages.0.role: the first message must use the "user" role',
      "messages.0.role",
    ],
    [
      "numeric content",
      userSays(5),
      "messages.0.content: must be a string or an array of content blocks",
      "messages.0.content",
    ],
    ["empty content", userSays(""), "messages.0.content: must not be empty", "messages.0.content"],
    [
      "a text block without text",
      userSays([{ type: "text" }]),
      "messages.0.content.0.text: is required",
      "messages.0.content.0.text",
    ],
    [
      "a document block",
      userSays([{ type: "document", source: { type: "text", data: "x" } }]),
      'messages.0.content.0.type: "document" blocks are not supported in user messages; use text, image or tool_result',
      "messages.0.content.0.type",
    ],
    [
      "a file image source",
      userSays([{ type: "image", source: { type: "file", file_id: "file_1" } }]),
      'messages.0.content.0.source.type: must be a "base64" or "url" image source',
      "messages.0.content.0.source.type",
    ],
    [
      "an unsupported image media type",
      userSays([{ type: "image", source: { type: "base64", media_type: "image/bmp", data: "Qk0=" } }]),
      'messages.0.content.0.source.media_type: must be "image/jpeg" or "image/png" or "image/gif" or "image/webp"',
      "messages.0.content.0.source.media_type",
    ],
    [
      "a tool_result in an assistant message",
      {
        ...base,
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: [{ type: "tool_result", tool_use_id: "toolu_1" }] },
        ],
      },
      'messages.1.content.0.type: "tool_result" blocks are not supported in assistant messages; use text, tool_use, thinking or redacted_thinking',
      "messages.1.content.0.type",
    ],
    [
      "a thinking block in a user message",
      {
        ...base,
        messages: [{ role: "user", content: [{ type: "thinking", thinking: "hmm", signature: "s" }] }],
      },
      'messages.0.content.0.type: "thinking" blocks are not supported in user messages; use text, image or tool_result',
      "messages.0.content.0.type",
    ],
    [
      "a tool_use whose input is not an object",
      {
        ...base,
        messages: [
          { role: "user", content: "Hi" },
          { role: "assistant", content: [{ type: "tool_use", id: "t", name: "f", input: "Paris" }] },
        ],
      },
      "messages.1.content.0.input: must be a JSON object",
      "messages.1.content.0.input",
    ],
    [
      "an image inside a tool_result",
      afterToolUse([
        {
          type: "tool_result",
          tool_use_id: "toolu_1",
          content: [{ type: "image", source: { type: "url", url: "u" } }],
        },
      ]),
      'messages.2.content.0.content.0.type: "image" blocks are not supported in tool_result content; use text blocks',
      "messages.2.content.0.content.0.type",
    ],
    [
      "a tool_result for an unknown tool_use",
      afterToolUse([{ type: "tool_result", tool_use_id: "toolu_9", content: "18C" }]),
      'messages.2.content.0.tool_use_id: "toolu_9" does not answer a tool_use block of the previous assistant message',
      "messages.2.content.0.tool_use_id",
    ],
    [
      "a tool_use left unanswered",
      afterToolUse("never mind"),
      "messages.2.content: every tool_use of the previous assistant message needs a tool_result block here; missing: toolu_1",
      "messages.2.content",
    ],
    [
      "a numeric system",
      { ...base, system: 5 },
      "system: must be a string or an array of content blocks",
      "system",
    ],
    [
      "a tool name with spaces",
      { ...base, tools: [{ ...weatherTool, name: "get weather" }] },
      "tools.0.name: must be 1-64 letters, digits, '_' or '-'",
      "tools.0.name",
    ],
    [
      "a tool without input_schema",
      { ...base, tools: [{ name: "f" }] },
      "tools.0.input_schema: is required",
      "tools.0.input_schema",
    ],
    [
      "a non-object input_schema",
      { ...base, tools: [{ name: "f", input_schema: { type: "string" } }] },
      'tools.0.input_schema.type: must be "object"',
      "tools.0.input_schema.type",
    ],
    [
      "a server tool",
      { ...base, tools: [{ type: "web_search_20250305", name: "web_search" }] },
      'tools.0.type: "web_search_20250305" is a server tool, which the gateway cannot run; define custom tools (name, description, input_schema)',
      "tools.0.type",
    ],
    [
      "an unknown tool_choice type",
      { ...base, tools: [weatherTool], tool_choice: { type: "sometimes" } },
      'tool_choice.type: must be "auto", "any", "tool" or "none"',
      "tool_choice.type",
    ],
    [
      "tool_choice any without tools",
      { ...base, tool_choice: { type: "any" } },
      'tool_choice.type: "any" needs at least one tool in tools',
      "tool_choice.type",
    ],
    [
      "tool_choice naming a missing tool",
      { ...base, tools: [weatherTool], tool_choice: { type: "tool", name: "get_time" } },
      'tool_choice.name: "get_time" is not one of the tools',
      "tool_choice.name",
    ],
    [
      "temperature above 1",
      { ...base, temperature: 1.5 },
      "temperature: must be between 0 and 1",
      "temperature",
    ],
    ["a negative top_k", { ...base, top_k: -1 }, "top_k: must not be negative", "top_k"],
    [
      "a string stop_sequences",
      { ...base, stop_sequences: "END" },
      "stop_sequences: must be an array",
      "stop_sequences",
    ],
    ["a string stream flag", { ...base, stream: "yes" }, "stream: must be a boolean", "stream"],
    [
      "a numeric metadata.user_id",
      { ...base, metadata: { user_id: 5 } },
      "metadata.user_id: must be a string",
      "metadata.user_id",
    ],
  ])("rejects %s", (_name, body, message, param) => {
    const error = decodeError(body);
    expect(error.errorClass).toBe("invalid_request");
    expect(error.message).toBe(message);
    expect(error.param).toBe(param);
  });
});
