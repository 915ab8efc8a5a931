import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  ResponseFormat,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from "../../canonical/chat.js";
import type { CompiledProvider } from "../../../shared/schemas/gateway-config.js";
import { GatewayError } from "../../../shared/errors.js";
import { historyToolNames, historyToolPlaceholder } from "../history-tools.js";
import { JSON_OBJECT_INSTRUCTION, jsonSchemaInstruction } from "../json-output-instructions.js";
import { anthropicThinking, anthropicThinkingBlocks } from "./anthropic-reasoning.js";
import type {
  AnthropicContentBlockParam,
  AnthropicImageSource,
  AnthropicMessageParam,
} from "./anthropic-wire-types.js";

export interface AnthropicRequestOptions {
  stream: boolean;
  /** max_tokens when the request sets none: the Messages API requires it. */
  defaultMaxTokens: number;
  /** Anthropic's own API names the model in the body; Vertex rawPredict names it in the URL. */
  includeModel: boolean;
  /** Vertex carries the API version in the body (`vertex-2023-10-16`) instead of a header. */
  anthropicVersion?: string;
  /**
   * How a json_schema response format is requested: `native` uses structured outputs
   * (`output_config.format`), `instruction` asks for it in the system prompt where the platform
   * or model lacks structured outputs. json_object is always an instruction: the API has no
   * "any JSON object" mode.
   */
  jsonSchema: "native" | "instruction";
}

/** Used when neither the request nor the provider's model spec sets an output limit. */
export const FALLBACK_MAX_TOKENS = 4096;

/** The output limit to send: the request's, else the model's maxOutputTokens, else 4096. */
export function resolveAnthropicMaxTokens(request: ChatRequest, provider: CompiledProvider): number {
  if (request.maxTokens !== undefined) return request.maxTokens;
  const model = provider.models.find((m) => m.upstreamModel === request.model);
  return model?.maxOutputTokens ?? FALLBACK_MAX_TOKENS;
}

function invalid(message: string): GatewayError {
  return new GatewayError("invalid_request", message, { param: "messages" });
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function convertImageSource(part: Extract<ContentPart, { type: "image" }>): AnthropicImageSource {
  if (part.data !== undefined) {
    if (!part.mediaType)
      throw invalid(
        "an image sent as base64 data needs its media type (image/png, image/jpeg, image/gif or image/webp)",
      );
    return { type: "base64", media_type: part.mediaType, data: part.data };
  }
  if (part.url !== undefined) {
    // Anthropic fetches http(s) URLs itself but does not accept data: URLs, so those become base64 sources.
    const match = DATA_URL.exec(part.url);
    if (match) return { type: "base64", media_type: match[1]!, data: match[2]! };
    return { type: "url", url: part.url };
  }
  throw invalid("an image part needs either a URL or base64 data");
}

function convertUserContent(parts: ContentPart[]): AnthropicContentBlockParam[] {
  const blocks: AnthropicContentBlockParam[] = [];
  for (const part of parts) {
    if (part.type === "text") {
      // Anthropic rejects text blocks that are empty or whitespace only.
      if (part.text.trim() !== "") blocks.push({ type: "text", text: part.text });
    } else {
      blocks.push({ type: "image", source: convertImageSource(part) });
    }
  }
  return blocks;
}

function parseToolInput(call: ToolCall): Record<string, unknown> {
  if (call.arguments.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(call.arguments);
  } catch {
    throw invalid(
      `the arguments of tool call ${call.id} (${call.name}) are not valid JSON; send them exactly as the model produced them`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalid(`the arguments of tool call ${call.id} (${call.name}) must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function convertAssistant(
  message: Extract<ChatMessage, { role: "assistant" }>,
): AnthropicContentBlockParam[] {
  // Claude needs its thinking blocks first, unchanged, to continue a tool loop with thinking on.
  const blocks: AnthropicContentBlockParam[] = anthropicThinkingBlocks(message.reasoning);
  if (message.content.trim() !== "") blocks.push({ type: "text", text: message.content });
  for (const call of message.toolCalls) {
    blocks.push({ type: "tool_use", id: call.id, name: call.name, input: parseToolInput(call) });
  }
  return blocks;
}

/**
 * Appends blocks as a turn of `role`, merging into the previous turn when it has the same role:
 * Anthropic needs user and assistant turns to alternate, so consecutive tool results (and a user
 * text after them) form one user turn.
 */
function appendTurn(
  turns: AnthropicMessageParam[],
  role: "user" | "assistant",
  blocks: AnthropicContentBlockParam[],
): void {
  if (blocks.length === 0) return;
  const last = turns.at(-1);
  if (last?.role !== role) {
    turns.push({ role, content: blocks });
    return;
  }
  for (const block of blocks) {
    if (block.type === "tool_result") {
      // A user turn that answers tool calls must begin with its tool_result blocks.
      const firstOther = last.content.findIndex((b) => b.type !== "tool_result");
      last.content.splice(firstOther === -1 ? last.content.length : firstOther, 0, block);
    } else {
      last.content.push(block);
    }
  }
}

function convertTool(tool: ToolDefinition): Record<string, unknown> {
  return {
    name: tool.name,
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    // input_schema must be an object schema; OpenAI-style clients may omit the type.
    input_schema: { type: "object", ...tool.parameters },
  };
}

function convertToolChoice(
  choice: ToolChoice | undefined,
  parallelToolCalls: boolean | undefined,
): Record<string, unknown> | undefined {
  if (choice === "none") return { type: "none" };
  const base =
    choice === undefined || choice === "auto"
      ? { type: "auto" }
      : choice === "required"
        ? { type: "any" }
        : { type: "tool", name: choice.name };
  if (parallelToolCalls === false) return { ...base, disable_parallel_tool_use: true };
  return choice === undefined ? undefined : base;
}

function jsonInstruction(
  format: ResponseFormat | undefined,
  options: AnthropicRequestOptions,
): string | undefined {
  if (format?.type === "json_object") return JSON_OBJECT_INSTRUCTION;
  if (format?.type === "json_schema" && options.jsonSchema === "instruction")
    return jsonSchemaInstruction(format.schema);
  return undefined;
}

/** Builds a Messages API body from a canonical request. Pure: no I/O, no provider lookups. */
export function convertToAnthropicRequest(
  request: ChatRequest,
  options: AnthropicRequestOptions,
): Record<string, unknown> {
  const systemParts: string[] = [];
  const turns: AnthropicMessageParam[] = [];
  for (const message of request.messages) {
    switch (message.role) {
      case "system":
        if (message.content.trim() !== "") systemParts.push(message.content);
        break;
      case "user":
        appendTurn(turns, "user", convertUserContent(message.content));
        break;
      case "assistant":
        appendTurn(turns, "assistant", convertAssistant(message));
        break;
      case "tool":
        appendTurn(turns, "user", [
          {
            type: "tool_result",
            tool_use_id: message.toolCallId,
            ...(message.content !== "" ? { content: message.content } : {}),
            ...(message.isError ? { is_error: true } : {}),
          },
        ]);
        break;
    }
  }
  const instruction = jsonInstruction(request.responseFormat, options);
  if (instruction) systemParts.push(instruction);

  const body: Record<string, unknown> = {};
  if (options.includeModel) body.model = request.model;
  if (options.anthropicVersion !== undefined) body.anthropic_version = options.anthropicVersion;
  body.max_tokens = request.maxTokens ?? options.defaultMaxTokens;
  const thinking = anthropicThinking(request.reasoning, body.max_tokens as number);
  if (thinking) body.thinking = thinking;
  if (systemParts.length > 0) body.system = systemParts.join("\n\n");
  body.messages = turns;
  if (request.tools?.length) {
    body.tools = request.tools.map(convertTool);
    const toolChoice = convertToolChoice(request.toolChoice, request.parallelToolCalls);
    if (toolChoice) body.tool_choice = toolChoice;
  } else {
    // The API refuses tool_use/tool_result blocks in a request without tools: declare the ones the
    // history used, and forbid calling them, since the client offers none.
    const used = historyToolNames(request.messages);
    if (used.length > 0) {
      body.tools = used.map((name) => convertTool(historyToolPlaceholder(name)));
      body.tool_choice = { type: "none" };
    }
  }
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop?.length) body.stop_sequences = request.stop;
  if (request.user !== undefined) body.metadata = { user_id: request.user };
  if (request.responseFormat?.type === "json_schema" && options.jsonSchema === "native") {
    body.output_config = { format: { type: "json_schema", schema: request.responseFormat.schema } };
  }
  if (options.stream) body.stream = true;
  return body;
}
