import type { ChatMessage, ChatRequest, ReasoningEffort, ToolChoice } from "../../canonical/chat.js";

export interface OpenAiRequestOptions {
  stream: boolean;
  /** Whether to ask for usage in streams (some OpenAI-compatible servers reject stream_options). */
  streamUsage: boolean;
  /** OpenAI's current name for the output limit is max_completion_tokens; many compatible servers only know max_tokens. */
  maxTokensField: "max_tokens" | "max_completion_tokens";
  /** Azure puts the deployment in the URL and ignores `model`. */
  includeModel: boolean;
}

function convertMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user": {
      const onlyText = message.content.every((p) => p.type === "text");
      if (onlyText)
        return {
          role: "user",
          content: message.content.map((p) => (p.type === "text" ? p.text : "")).join(""),
        };
      return {
        role: "user",
        content: message.content.map((part) =>
          part.type === "text"
            ? { type: "text", text: part.text }
            : {
                type: "image_url",
                image_url: { url: part.url ?? `data:${part.mediaType};base64,${part.data}` },
              },
        ),
      };
    }
    case "assistant":
      return {
        role: "assistant",
        content: message.content === "" && message.toolCalls.length > 0 ? null : message.content,
        ...(message.toolCalls.length > 0
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: "function",
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
      };
    case "tool":
      return { role: "tool", tool_call_id: message.toolCallId, content: message.content };
  }
}

function convertToolChoice(choice: ToolChoice): unknown {
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

/**
 * OpenAI reasoning models take an effort, not a budget: a budget reads as the effort whose
 * thinking it would hold. Off, or on without either, sends nothing: older reasoning models refuse
 * `none`, and their default is to think.
 */
function reasoningEffort(reasoning: ChatRequest["reasoning"]): ReasoningEffort | undefined {
  if (!reasoning?.enabled) return undefined;
  if (reasoning.effort) return reasoning.effort;
  if (reasoning.budgetTokens === undefined) return undefined;
  return reasoning.budgetTokens <= 2048 ? "low" : reasoning.budgetTokens <= 8192 ? "medium" : "high";
}

export function convertToOpenAiRequest(
  request: ChatRequest,
  options: OpenAiRequestOptions,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    messages: request.messages.map(convertMessage),
  };
  if (options.includeModel) body.model = request.model;
  if (request.tools?.length) {
    body.tools = request.tools.map((tool) => ({
      type: "function",
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    }));
  }
  if (request.toolChoice !== undefined) body.tool_choice = convertToolChoice(request.toolChoice);
  if (request.parallelToolCalls !== undefined && request.tools?.length)
    body.parallel_tool_calls = request.parallelToolCalls;
  if (request.maxTokens !== undefined) body[options.maxTokensField] = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop?.length) body.stop = request.stop;
  if (request.user !== undefined) body.user = request.user;
  const effort = reasoningEffort(request.reasoning);
  if (effort) body.reasoning_effort = effort;
  if (request.responseFormat) {
    const format = request.responseFormat;
    body.response_format =
      format.type === "json_schema"
        ? {
            type: "json_schema",
            json_schema: { name: format.name, schema: format.schema, strict: format.strict },
          }
        : { type: format.type };
  }
  if (options.stream) {
    body.stream = true;
    if (options.streamUsage) body.stream_options = { include_usage: true };
  }
  return body;
}
