import type {
  ContentBlock,
  ConverseCommandInput,
  ImageFormat,
  Message,
  SystemContentBlock,
  Tool,
  ToolChoice as BedrockToolChoice,
  ToolConfiguration,
} from "@aws-sdk/client-bedrock-runtime";
import type { ChatMessage, ChatRequest, ImagePart, ToolDefinition } from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import { historyToolNames, historyToolPlaceholder } from "../history-tools.js";
import { JSON_OBJECT_INSTRUCTION } from "../json-output-instructions.js";
import { FALLBACK_MAX_TOKENS } from "../anthropic/convert-to-anthropic-request.js";
import { bedrockReasoningBlocks, bedrockReasoningFields } from "./bedrock-reasoning.js";

type DocumentValue = NonNullable<ContentBlock.ToolUseMember["toolUse"]["input"]>;

const IMAGE_FORMATS: Record<string, ImageFormat> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
};

function invalid(message: string, param: string): GatewayError {
  return new GatewayError("invalid_request", message, { param });
}

function convertImage(part: ImagePart, param: string): ContentBlock {
  let mediaType = part.mediaType;
  let data = part.data;
  if (data === undefined && part.url) {
    const m = /^data:([^;,]+);base64,(.*)$/s.exec(part.url);
    if (!m) throw invalid("Bedrock accepts images only as base64 data (data: URLs), not remote URLs", param);
    mediaType = m[1];
    data = m[2];
  }
  const format = IMAGE_FORMATS[(mediaType ?? "").toLowerCase()];
  if (!format || data === undefined) {
    throw invalid(
      `Bedrock accepts png, jpeg, gif and webp images; got ${mediaType ?? "an image without a media type"}`,
      param,
    );
  }
  return { image: { format, source: { bytes: Buffer.from(data, "base64") } } };
}

function parseArguments(text: string, param: string): DocumentValue {
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as DocumentValue;
  } catch {
    throw invalid("a tool call's arguments are not valid JSON; Bedrock needs them as a JSON object", param);
  }
}

function convertMessage(
  message: Exclude<ChatMessage, { role: "system" }>,
  index: number,
  modelId: string,
): Message {
  const param = `messages[${index}]`;
  switch (message.role) {
    case "user":
      return {
        role: "user",
        content: message.content.flatMap((part): ContentBlock[] => {
          if (part.type === "image") return [convertImage(part, `${param}.content`)];
          return part.text.trim() === "" ? [] : [{ text: part.text }];
        }),
      };
    case "assistant": {
      // Reasoning goes back first and unchanged: Claude refuses a tool loop whose turn lost it.
      const content: ContentBlock[] = bedrockReasoningBlocks(message.reasoning, modelId);
      if (message.content.trim() !== "") content.push({ text: message.content });
      for (const call of message.toolCalls) {
        content.push({
          toolUse: {
            toolUseId: call.id,
            name: call.name,
            input: parseArguments(call.arguments, `${param}.tool_calls`),
          },
        });
      }
      return { role: "assistant", content };
    }
    case "tool":
      return {
        role: "user",
        content: [
          {
            toolResult: {
              toolUseId: message.toolCallId,
              // Bedrock rejects blank text blocks; an empty result is an empty content list.
              content: message.content.trim() === "" ? [] : [{ text: message.content }],
              // `status` is only understood by some model families, so it is sent only when it
              // carries information (the default is success).
              ...(message.isError ? { status: "error" as const } : {}),
            },
          },
        ],
      };
  }
}

/** Bedrock requires strict user/assistant alternation: same-role neighbours become one turn. */
function mergeTurns(messages: Message[]): Message[] {
  const out: Message[] = [];
  for (const message of messages) {
    if (!message.content?.length) continue;
    const previous = out[out.length - 1];
    if (previous && previous.role === message.role)
      previous.content = [...previous.content!, ...message.content];
    else out.push({ role: message.role, content: [...message.content] });
  }
  return out;
}

function toolSpec(tool: ToolDefinition): Tool {
  return {
    toolSpec: {
      name: tool.name,
      ...(tool.description ? { description: tool.description } : {}),
      inputSchema: { json: tool.parameters as DocumentValue },
    },
  };
}

/**
 * Converse refuses toolUse/toolResult blocks without a toolConfig, so every tool the history used
 * is declared: with the client's definition when it still sent one (tool_choice none), else with a
 * placeholder. Converse's toolChoice has no "none", so nothing stops the model from calling them;
 * the placeholders' descriptions ask it not to.
 */
function convertToolConfig(request: ChatRequest): ToolConfiguration | undefined {
  const requested = request.toolChoice === "none" ? [] : (request.tools ?? []);
  const tools: Tool[] = requested.map(toolSpec);
  for (const name of historyToolNames(request.messages)) {
    if (requested.some((t) => t.name === name)) continue;
    tools.push(toolSpec(request.tools?.find((t) => t.name === name) ?? historyToolPlaceholder(name)));
  }
  if (tools.length === 0) return undefined;
  let toolChoice: BedrockToolChoice | undefined;
  // "auto" is Bedrock's default and not every model family accepts an explicit toolChoice.
  if (request.toolChoice === "required") toolChoice = { any: {} };
  else if (typeof request.toolChoice === "object") toolChoice = { tool: { name: request.toolChoice.name } };
  return { tools, ...(toolChoice && requested.length > 0 ? { toolChoice } : {}) };
}

/**
 * Maps a canonical chat request to a Converse / ConverseStream request. `defaultMaxTokens` is the
 * output limit sent when the request sets none and thinking needs one (the budget must stay below it).
 */
export function convertToBedrockRequest(
  request: ChatRequest,
  defaultMaxTokens?: number,
): ConverseCommandInput {
  const system: SystemContentBlock[] = [];
  const converted: Message[] = [];
  request.messages.forEach((message, index) => {
    if (message.role === "system") {
      if (message.content.trim() !== "") system.push({ text: message.content });
    } else {
      converted.push(convertMessage(message, index, request.model));
    }
  });
  // Converse has no JSON-object mode: ask for one in the system prompt rather than drop the request.
  if (request.responseFormat?.type === "json_object") system.push({ text: JSON_OBJECT_INSTRUCTION });
  const messages = mergeTurns(converted);
  const input: ConverseCommandInput = { modelId: request.model, messages };
  if (system.length > 0) input.system = system;
  const inference: NonNullable<ConverseCommandInput["inferenceConfig"]> = {};
  // Claude's thinking budget counts toward the output limit, so a thinking request states one.
  const thinkingLimit = request.maxTokens ?? defaultMaxTokens ?? FALLBACK_MAX_TOKENS;
  const reasoningFields = bedrockReasoningFields(request, thinkingLimit);
  if (reasoningFields) input.additionalModelRequestFields = reasoningFields;
  if (request.maxTokens !== undefined || (reasoningFields && request.reasoning?.enabled))
    inference.maxTokens = thinkingLimit;
  if (request.temperature !== undefined) inference.temperature = request.temperature;
  if (request.topP !== undefined) inference.topP = request.topP;
  if (request.stop?.length) inference.stopSequences = request.stop;
  if (Object.keys(inference).length > 0) input.inferenceConfig = inference;
  const toolConfig = convertToolConfig(request);
  if (toolConfig) input.toolConfig = toolConfig;
  if (request.responseFormat?.type === "json_schema") {
    const format = request.responseFormat;
    input.outputConfig = {
      textFormat: {
        type: "json_schema",
        structure: { jsonSchema: { name: format.name, schema: JSON.stringify(format.schema) } },
      },
    };
  }
  return input;
}
