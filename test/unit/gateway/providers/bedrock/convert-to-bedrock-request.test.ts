import { describe, expect, it } from "vitest";
import type { ChatMessage, ChatRequest } from "../../../../../src/gateway/canonical/chat.js";
import { convertToBedrockRequest } from "../../../../../src/gateway/providers/bedrock/convert-to-bedrock-request.js";
import { JSON_OBJECT_INSTRUCTION } from "../../../../../src/gateway/providers/json-output-instructions.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const MODEL = "amazon.nova-lite-v1:0";
const TOOL = {
  name: "get_weather",
  description: "Weather",
  parameters: { type: "object", properties: { city: { type: "string" } } },
};

function user(text: string): ChatMessage {
  return { role: "user", content: [{ type: "text", text }] };
}

function request(overrides: Partial<ChatRequest>): ChatRequest {
  return { model: MODEL, messages: [user("hi")], ...overrides };
}

const toolTurn: ChatMessage[] = [
  user("weather in Oslo and Rome?"),
  {
    role: "assistant",
    content: "",
    toolCalls: [
      { id: "t1", name: "get_weather", arguments: '{"city":"Oslo"}' },
      { id: "t2", name: "lookup_city", arguments: "" },
    ],
  },
  { role: "tool", toolCallId: "t1", content: "5C" },
  { role: "tool", toolCallId: "t2", content: "failed", isError: true },
];

function placeholder(name: string): unknown {
  return {
    toolSpec: {
      name,
      description: expect.stringContaining("no longer offered") as unknown,
      inputSchema: { json: { type: "object" } },
    },
  };
}

describe("convertToBedrockRequest", () => {
  it("moves system messages to `system` and maps sampling options to inferenceConfig", () => {
    const input = convertToBedrockRequest(
      request({
        messages: [{ role: "system", content: "Be brief." }, user("hi"), { role: "system", content: "  " }],
        maxTokens: 10,
        temperature: 0,
        topP: 1,
        stop: ["\n\n"],
      }),
    );
    expect(input).toEqual({
      modelId: MODEL,
      system: [{ text: "Be brief." }],
      messages: [{ role: "user", content: [{ text: "hi" }] }],
      inferenceConfig: { maxTokens: 10, temperature: 0, topP: 1, stopSequences: ["\n\n"] },
    });
  });

  it("maps tool calls to toolUse blocks and merges consecutive tool results into one user turn", () => {
    const input = convertToBedrockRequest(request({ messages: toolTurn, tools: [TOOL] }));
    expect(input.messages).toEqual([
      { role: "user", content: [{ text: "weather in Oslo and Rome?" }] },
      {
        role: "assistant",
        content: [
          { toolUse: { toolUseId: "t1", name: "get_weather", input: { city: "Oslo" } } },
          { toolUse: { toolUseId: "t2", name: "lookup_city", input: {} } },
        ],
      },
      {
        role: "user",
        content: [
          { toolResult: { toolUseId: "t1", content: [{ text: "5C" }] } },
          { toolResult: { toolUseId: "t2", content: [{ text: "failed" }], status: "error" } },
        ],
      },
    ]);
  });

  it("adds a spec for every tool the history uses that the request does not declare", () => {
    const input = convertToBedrockRequest(request({ messages: toolTurn, tools: [TOOL] }));
    expect(input.toolConfig?.tools?.map((t) => t.toolSpec?.name)).toEqual(["get_weather", "lookup_city"]);
    expect(input.toolConfig?.tools?.[1]).toEqual(placeholder("lookup_city"));
  });

  it("declares the history's tools as placeholders when the request has no tools", () => {
    const summary = [...toolTurn, user("Summarise that")];
    const input = convertToBedrockRequest(request({ messages: summary }));
    expect(input.toolConfig).toEqual({ tools: [placeholder("get_weather"), placeholder("lookup_city")] });
    // Converse has no "none" choice; a client's required or named choice cannot apply to placeholders.
    for (const toolChoice of ["required", { name: "get_weather" }] as const) {
      expect(convertToBedrockRequest(request({ messages: summary, toolChoice })).toolConfig).toEqual({
        tools: [placeholder("get_weather"), placeholder("lookup_city")],
      });
    }
  });

  it("keeps a toolConfig for tool history even with tool_choice none, and omits tools otherwise", () => {
    const withHistory = convertToBedrockRequest(
      request({ messages: toolTurn, tools: [TOOL], toolChoice: "none" }),
    );
    expect(withHistory.toolConfig?.tools?.map((t) => t.toolSpec?.name)).toEqual([
      "get_weather",
      "lookup_city",
    ]);
    expect(withHistory.toolConfig?.tools?.[0]).toEqual({
      toolSpec: { name: "get_weather", description: "Weather", inputSchema: { json: TOOL.parameters } },
    });
    expect(withHistory.toolConfig?.toolChoice).toBeUndefined();
    const withoutHistory = convertToBedrockRequest(request({ tools: [TOOL], toolChoice: "none" }));
    expect(withoutHistory.toolConfig).toBeUndefined();
    const noTools = convertToBedrockRequest(request({ messages: toolTurn }));
    expect(noTools.toolConfig?.tools).toHaveLength(2);
  });

  it("maps tool choice: auto is Bedrock's default, required is any, a name is tool", () => {
    expect(
      convertToBedrockRequest(request({ tools: [TOOL], toolChoice: "auto" })).toolConfig?.toolChoice,
    ).toBeUndefined();
    expect(
      convertToBedrockRequest(request({ tools: [TOOL], toolChoice: "required" })).toolConfig?.toolChoice,
    ).toEqual({ any: {} });
    expect(
      convertToBedrockRequest(request({ tools: [TOOL], toolChoice: { name: "get_weather" } })).toolConfig
        ?.toolChoice,
    ).toEqual({
      tool: { name: "get_weather" },
    });
  });

  it("drops empty text blocks and messages left empty, then keeps roles alternating", () => {
    const input = convertToBedrockRequest(
      request({
        messages: [
          user("first"),
          { role: "assistant", content: "", toolCalls: [] },
          {
            role: "user",
            content: [
              { type: "text", text: "" },
              { type: "text", text: "second" },
            ],
          },
        ],
      }),
    );
    expect(input.messages).toEqual([{ role: "user", content: [{ text: "first" }, { text: "second" }] }]);
  });

  it("sends base64 images as bytes with their format and refuses what Bedrock cannot take", () => {
    const input = convertToBedrockRequest(
      request({
        messages: [
          {
            role: "user",
            content: [
              { type: "image", mediaType: "image/jpeg", data: Buffer.from("jpg").toString("base64") },
            ],
          },
        ],
      }),
    );
    const image = input.messages?.[0]?.content?.[0]?.image;
    expect(image?.format).toBe("jpeg");
    expect(Buffer.from(image?.source?.bytes as Uint8Array).toString()).toBe("jpg");
    const remote = () =>
      convertToBedrockRequest(
        request({ messages: [{ role: "user", content: [{ type: "image", url: "https://x/y.png" }] }] }),
      );
    expect(remote).toThrow(GatewayError);
    const bmp = () =>
      convertToBedrockRequest(
        request({
          messages: [{ role: "user", content: [{ type: "image", url: "data:image/bmp;base64,AA==" }] }],
        }),
      );
    expect(bmp).toThrow(/png, jpeg, gif and webp/);
  });

  it("refuses tool call arguments that are not JSON", () => {
    const bad: ChatMessage[] = [
      user("x"),
      { role: "assistant", content: "", toolCalls: [{ id: "t", name: "f", arguments: "{oops" }] },
    ];
    expect(() => convertToBedrockRequest(request({ messages: bad }))).toThrow(/not valid JSON/);
  });

  it("maps a JSON schema response format to outputConfig", () => {
    const schema = {
      type: "object",
      properties: { a: { type: "string" } },
      required: ["a"],
      additionalProperties: false,
    };
    const input = convertToBedrockRequest(
      request({ responseFormat: { type: "json_schema", name: "answer", schema } }),
    );
    expect(input.outputConfig).toEqual({
      textFormat: {
        type: "json_schema",
        structure: { jsonSchema: { name: "answer", schema: JSON.stringify(schema) } },
      },
    });
    // Converse has no "any JSON object" mode: json_object is asked for in the system prompt.
    const jsonObject = convertToBedrockRequest(request({ responseFormat: { type: "json_object" } }));
    expect(jsonObject.outputConfig).toBeUndefined();
    expect(jsonObject.system).toContainEqual({ text: JSON_OBJECT_INSTRUCTION });
  });

  describe("reasoning", () => {
    const CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    const signed = { origin: "anthropic", value: "sig" };
    const history: ChatMessage[] = [
      user("weather in Oslo?"),
      {
        role: "assistant",
        content: "Checking.",
        toolCalls: [{ id: "t1", name: "get_weather", arguments: '{"city":"Oslo"}' }],
        reasoning: [
          { type: "thinking", text: "Gemini thought", signature: { origin: "vertex", value: "g" } },
          { type: "thinking", text: "unsigned" },
          { type: "thinking", text: "Claude thought", signature: signed },
          { type: "redacted", data: { origin: "anthropic", value: Buffer.from("x").toString("base64") } },
        ],
      },
      { role: "tool", toolCallId: "t1", content: "5C" },
    ];

    it("asks Claude to think through additionalModelRequestFields, under an output limit it states", () => {
      const input = convertToBedrockRequest(
        request({ model: CLAUDE, reasoning: { enabled: true, effort: "low" } }),
        16000,
      );
      expect(input.additionalModelRequestFields).toEqual({
        thinking: { type: "enabled", budget_tokens: 2048 },
      });
      expect(input.inferenceConfig).toEqual({ maxTokens: 16000 });
      const budget = convertToBedrockRequest(
        request({ model: CLAUDE, maxTokens: 5000, reasoning: { enabled: true, budgetTokens: 4000 } }),
      );
      expect(budget.additionalModelRequestFields).toEqual({
        thinking: { type: "enabled", budget_tokens: 4000 },
      });
      expect(budget.inferenceConfig).toEqual({ maxTokens: 5000 });
      expect(() =>
        convertToBedrockRequest(
          request({ model: CLAUDE, maxTokens: 1000, reasoning: { enabled: true, budgetTokens: 2000 } }),
        ),
      ).toThrow(/raise max_tokens/);
    });

    it("sends other families no reasoning settings (documented drop)", () => {
      const input = convertToBedrockRequest(request({ reasoning: { enabled: true, effort: "high" } }), 16000);
      expect(input.additionalModelRequestFields).toBeUndefined();
      expect(input.inferenceConfig).toBeUndefined();
    });

    it("sends Claude its own reasoning back first and unchanged, and leaves out any other model's", () => {
      const input = convertToBedrockRequest(request({ model: CLAUDE, messages: history, tools: [TOOL] }));
      expect(input.messages![1]!.content).toEqual([
        { reasoningContent: { reasoningText: { text: "Claude thought", signature: "sig" } } },
        { reasoningContent: { redactedContent: Buffer.from("x") } },
        { text: "Checking." },
        { toolUse: { toolUseId: "t1", name: "get_weather", input: { city: "Oslo" } } },
      ]);
      const other = convertToBedrockRequest(request({ messages: history, tools: [TOOL] }));
      expect(other.messages![1]!.content!.some((block) => block.reasoningContent)).toBe(false);
    });
  });
});
