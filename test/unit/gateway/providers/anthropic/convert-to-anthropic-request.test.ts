import { describe, expect, it } from "vitest";
import type { ChatRequest } from "../../../../../src/gateway/canonical/chat.js";
import {
  convertToAnthropicRequest,
  resolveAnthropicMaxTokens,
  type AnthropicRequestOptions,
} from "../../../../../src/gateway/providers/anthropic/convert-to-anthropic-request.js";
import type { CompiledProvider } from "../../../../../src/shared/schemas/gateway-config.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const OPTIONS: AnthropicRequestOptions = {
  stream: false,
  defaultMaxTokens: 4096,
  includeModel: true,
  jsonSchema: "native",
};

function convert(
  request: Partial<ChatRequest>,
  options: Partial<AnthropicRequestOptions> = {},
): Record<string, unknown> {
  return convertToAnthropicRequest(
    { model: "claude-x", messages: [], ...request },
    { ...OPTIONS, ...options },
  );
}

const text = (t: string) => ({ type: "text" as const, text: t });

describe("convertToAnthropicRequest", () => {
  it("hoists every system message into the top-level system prompt", () => {
    const body = convert({
      messages: [
        { role: "system", content: "Rule one." },
        { role: "user", content: [text("hi")] },
        { role: "system", content: "Rule two." },
      ],
    });
    expect(body.system).toBe("Rule one.\n\nRule two.");
    expect(body.messages).toEqual([{ role: "user", content: [text("hi")] }]);
  });

  it("drops empty and whitespace-only text blocks, and turns left empty", () => {
    const body = convert({
      messages: [
        { role: "user", content: [text(""), text("question"), text("  ")] },
        { role: "assistant", content: "", toolCalls: [] },
        { role: "user", content: [text("more")] },
      ],
    });
    expect(body.messages).toEqual([{ role: "user", content: [text("question"), text("more")] }]);
  });

  it("turns tool calls into tool_use blocks with parsed input, empty arguments into {}", () => {
    const body = convert({
      messages: [
        { role: "user", content: [text("go")] },
        {
          role: "assistant",
          content: "Checking.",
          toolCalls: [
            { id: "t1", name: "lookup", arguments: '{"q":"x"}' },
            { id: "t2", name: "now", arguments: "" },
          ],
        },
      ],
    });
    expect((body.messages as unknown[])[1]).toEqual({
      role: "assistant",
      content: [
        text("Checking."),
        { type: "tool_use", id: "t1", name: "lookup", input: { q: "x" } },
        { type: "tool_use", id: "t2", name: "now", input: {} },
      ],
    });
  });

  it("rejects tool-call arguments that are not a JSON object, naming the call", () => {
    const bad = (args: string) => () =>
      convert({
        messages: [{ role: "assistant", content: "", toolCalls: [{ id: "t9", name: "f", arguments: args }] }],
      });
    expect(bad("{not json")).toThrowError(GatewayError);
    expect(bad("{not json")).toThrowError(/t9 \(f\).*not valid JSON/);
    expect(bad("[1,2]")).toThrowError(/must be a JSON object/);
  });

  it("merges consecutive tool results and the next user text into one user turn, results first", () => {
    const body = convert({
      messages: [
        { role: "user", content: [text("q")] },
        {
          role: "assistant",
          content: "",
          toolCalls: [
            { id: "a", name: "f", arguments: "{}" },
            { id: "b", name: "f", arguments: "{}" },
          ],
        },
        { role: "tool", toolCallId: "a", content: "A" },
        { role: "tool", toolCallId: "b", content: "", isError: true },
        { role: "user", content: [text("and?")] },
      ],
    });
    const messages = body.messages as Array<{ role: string; content: unknown[] }>;
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
    expect(messages[2]!.content).toEqual([
      { type: "tool_result", tool_use_id: "a", content: "A" },
      { type: "tool_result", tool_use_id: "b", is_error: true },
      text("and?"),
    ]);
  });

  it("keeps tool results at the head of a user turn even when user text came first", () => {
    const body = convert({
      messages: [
        { role: "assistant", content: "", toolCalls: [{ id: "a", name: "f", arguments: "{}" }] },
        { role: "user", content: [text("note")] },
        { role: "tool", toolCallId: "a", content: "A" },
      ],
    });
    expect((body.messages as Array<{ content: unknown[] }>)[1]!.content).toEqual([
      { type: "tool_result", tool_use_id: "a", content: "A" },
      text("note"),
    ]);
  });

  it("merges consecutive user messages so roles alternate", () => {
    const body = convert({
      messages: [
        { role: "user", content: [text("a")] },
        { role: "user", content: [text("b")] },
      ],
    });
    expect(body.messages).toEqual([{ role: "user", content: [text("a"), text("b")] }]);
  });

  it("maps images: base64 data, data: URLs to base64, http URLs to url sources", () => {
    const body = convert({
      messages: [
        {
          role: "user",
          content: [
            { type: "image", mediaType: "image/png", data: "AAAA" },
            { type: "image", url: "data:image/jpeg;base64,BBBB" },
            { type: "image", url: "https://example.com/a.webp" },
          ],
        },
      ],
    });
    expect((body.messages as Array<{ content: unknown[] }>)[0]!.content).toEqual([
      { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
      { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "BBBB" } },
      { type: "image", source: { type: "url", url: "https://example.com/a.webp" } },
    ]);
    expect(() =>
      convert({ messages: [{ role: "user", content: [{ type: "image", data: "AAAA" }] }] }),
    ).toThrowError(/media type/);
  });

  it("maps tools and tool_choice auto/required/named/none", () => {
    const tools = [
      { name: "f", description: "does f", parameters: { properties: { x: { type: "string" } } } },
    ];
    const body = convert({ tools, toolChoice: "auto" });
    expect(body.tools).toEqual([
      {
        name: "f",
        description: "does f",
        input_schema: { type: "object", properties: { x: { type: "string" } } },
      },
    ]);
    expect(body.tool_choice).toEqual({ type: "auto" });
    expect(convert({ tools, toolChoice: "required" }).tool_choice).toEqual({ type: "any" });
    expect(convert({ tools, toolChoice: { name: "f" } }).tool_choice).toEqual({ type: "tool", name: "f" });
    expect(convert({ tools, toolChoice: "none" }).tool_choice).toEqual({ type: "none" });
    expect(convert({ tools }).tool_choice).toBeUndefined();
  });

  it("disables parallel tool use when asked, and sends no tool_choice without tools", () => {
    const tools = [{ name: "f", parameters: { type: "object" } }];
    expect(convert({ tools, parallelToolCalls: false }).tool_choice).toEqual({
      type: "auto",
      disable_parallel_tool_use: true,
    });
    expect(convert({ tools, toolChoice: "required", parallelToolCalls: false }).tool_choice).toEqual({
      type: "any",
      disable_parallel_tool_use: true,
    });
    expect(convert({ toolChoice: "required" })).not.toHaveProperty("tool_choice");
  });

  describe("tool history in a request without tools", () => {
    const history: ChatRequest["messages"] = [
      { role: "user", content: [text("weather in Oslo and the time?")] },
      {
        role: "assistant",
        content: "",
        toolCalls: [
          { id: "t1", name: "get_weather", arguments: '{"city":"Oslo"}' },
          { id: "t2", name: "now", arguments: "" },
          { id: "t3", name: "get_weather", arguments: '{"city":"Rome"}' },
        ],
      },
      { role: "tool", toolCallId: "t1", content: "5C" },
      { role: "tool", toolCallId: "t2", content: "noon" },
      { role: "tool", toolCallId: "t3", content: "20C" },
      { role: "user", content: [text("Summarise that")] },
    ];
    const placeholder = (name: string) => ({
      name,
      description: expect.stringContaining("no longer offered") as unknown,
      input_schema: { type: "object" },
    });

    it("declares each tool the history used once, as a placeholder, and forbids calling them", () => {
      const body = convert({ messages: history });
      expect(body.tools).toEqual([placeholder("get_weather"), placeholder("now")]);
      expect(body.tool_choice).toEqual({ type: "none" });
    });

    it("forbids calling the placeholders whatever tool_choice the client sent without tools", () => {
      for (const toolChoice of ["auto", "required", "none", { name: "get_weather" }] as const) {
        const body = convert({ messages: history, toolChoice, parallelToolCalls: false });
        expect(body.tool_choice).toEqual({ type: "none" });
      }
    });

    it("does the same for Claude on Vertex", () => {
      const body = convert(
        { messages: history },
        { includeModel: false, anthropicVersion: "vertex-2023-10-16", jsonSchema: "instruction" },
      );
      expect(body.tools).toEqual([placeholder("get_weather"), placeholder("now")]);
      expect(body.tool_choice).toEqual({ type: "none" });
    });

    it("sends the client's own tools, and its tool_choice none, when it still offers tools", () => {
      const tools = [{ name: "get_weather", description: "Weather", parameters: { type: "object" } }];
      const body = convert({ messages: history, tools, toolChoice: "none" });
      expect(body.tools).toEqual([
        { name: "get_weather", description: "Weather", input_schema: { type: "object" } },
      ]);
      expect(body.tool_choice).toEqual({ type: "none" });
    });

    it("adds no tools to a conversation without tool calls", () => {
      const body = convert({ messages: [{ role: "user", content: [text("hi")] }] });
      expect(body).not.toHaveProperty("tools");
      expect(body).not.toHaveProperty("tool_choice");
    });
  });

  it("maps sampling, stop sequences, user and stream", () => {
    const body = convert(
      { temperature: 0.5, topP: 0.8, stop: ["END"], user: "u-1", maxTokens: 12 },
      { stream: true },
    );
    expect(body).toMatchObject({
      temperature: 0.5,
      top_p: 0.8,
      stop_sequences: ["END"],
      metadata: { user_id: "u-1" },
      max_tokens: 12,
      stream: true,
    });
    expect(convert({})).not.toHaveProperty("stream");
  });

  it("uses the default max_tokens when the request has none", () => {
    expect(convert({}, { defaultMaxTokens: 777 }).max_tokens).toBe(777);
  });

  it("builds a Vertex rawPredict body: no model, anthropic_version in the body", () => {
    const body = convert(
      { messages: [{ role: "user", content: [text("hi")] }] },
      { includeModel: false, anthropicVersion: "vertex-2023-10-16" },
    );
    expect(body).not.toHaveProperty("model");
    expect(body.anthropic_version).toBe("vertex-2023-10-16");
    expect(convert({}).model).toBe("claude-x");
  });

  it("requests json_schema natively or by instruction, and json_object always by instruction", () => {
    const schema = { type: "object", properties: { a: { type: "string" } } };
    const native = convert({ responseFormat: { type: "json_schema", name: "r", schema } });
    expect(native.output_config).toEqual({ format: { type: "json_schema", schema } });
    expect(native).not.toHaveProperty("system");

    const instructed = convert(
      {
        messages: [{ role: "system", content: "Be terse." }],
        responseFormat: { type: "json_schema", name: "r", schema },
      },
      { jsonSchema: "instruction" },
    );
    expect(instructed).not.toHaveProperty("output_config");
    expect(instructed.system).toMatch(
      /^Be terse\.\n\nRespond with a single valid JSON value that conforms to this JSON Schema/,
    );
    expect(instructed.system).toContain(JSON.stringify(schema));

    const jsonObject = convert({ responseFormat: { type: "json_object" } });
    expect(jsonObject.system).toMatch(/single valid JSON object/);
    expect(jsonObject).not.toHaveProperty("output_config");
  });
});

describe("resolveAnthropicMaxTokens", () => {
  const provider = {
    models: [
      { name: "a", upstreamModel: "claude-a", kind: "chat", maxOutputTokens: 8192, supportsTools: true },
      { name: "b", upstreamModel: "claude-b", kind: "chat", supportsTools: true },
    ],
  } as CompiledProvider;

  it("prefers the request, then the model's maxOutputTokens, then 4096", () => {
    expect(resolveAnthropicMaxTokens({ model: "claude-a", messages: [], maxTokens: 5 }, provider)).toBe(5);
    expect(resolveAnthropicMaxTokens({ model: "claude-a", messages: [] }, provider)).toBe(8192);
    expect(resolveAnthropicMaxTokens({ model: "claude-b", messages: [] }, provider)).toBe(4096);
    expect(resolveAnthropicMaxTokens({ model: "unknown", messages: [] }, provider)).toBe(4096);
  });
});
