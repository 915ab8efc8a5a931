import type { z } from "zod";
import type {
  ChatMessage,
  ContentPart,
  ResponseFormat,
  ToolChoice,
  ToolDefinition,
} from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import type { DecodedChatRequest } from "../chat-ingress-format.js";
import { convertReasoningEffort } from "../openai/decode-openai-chat-request.js";
import { toolCallFromClientId, upstreamToolCallId } from "../tool-call-id-carrier.js";
import { zodIssueToGatewayError } from "../zod-issue-error.js";
import { reasoningPartOf } from "./reasoning-items.js";
import {
  functionTool,
  INPUT_ITEMS,
  responsesRequestSchema,
  type ResponsesInputItem,
  type ResponsesRequest,
} from "./responses-request-schema.js";

/** What the gateway keeps of a conversation: nothing. Named in every refusal of a stateful feature. */
const STATELESS =
  "this gateway keeps no responses or conversations: send the whole conversation in input, with store: false or no store";

const SUPPORTED_ITEMS = "message, function_call, function_call_output and reasoning";
const SUPPORTED_TOOLS = 'only function tools ({"type":"function", ...}) are supported';

function invalid(param: string, message: string): GatewayError {
  return new GatewayError("invalid_request", `${param}: ${message}`, { param });
}

function refuseStatefulFields(b: ResponsesRequest): void {
  const refused: Array<[string, boolean]> = [
    ["previous_response_id", b.previous_response_id != null],
    ["conversation", b.conversation != null],
    ["store", b.store === true],
    ["background", b.background === true],
    ["prompt", b.prompt != null],
  ];
  for (const [field, present] of refused) {
    if (present) throw invalid(field, `is not supported: ${STATELESS}`);
  }
  const include = (b.include ?? []).find((value) => value !== "reasoning.encrypted_content");
  if (include !== undefined)
    throw invalid("include", `"${include}" is not supported; only "reasoning.encrypted_content" is`);
}

function parseItem<S extends z.ZodType>(schema: S, value: unknown, path: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const error = zodIssueToGatewayError(parsed.error);
  const param = error.param ? `${path}.${error.param}` : path;
  throw invalid(param, error.message.replace(/^[^:]*: /, ""));
}

function item(value: { type: string }, i: number): ResponsesInputItem {
  const schema = INPUT_ITEMS[value.type as keyof typeof INPUT_ITEMS];
  if (!schema) {
    throw invalid(
      `input[${i}].type`,
      `"${value.type}" items are not supported (item_reference needs stored responses, built-in tool calls need built-in tools); supported: ${SUPPORTED_ITEMS}`,
    );
  }
  return parseItem(schema, value, `input[${i}]`) as ResponsesInputItem;
}

type Part = Extract<ResponsesInputItem, { type: "message" }>["content"];

function contentParts(content: Part, path: string): ContentPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return content.map((part, j): ContentPart => {
    switch (part.type) {
      case "input_text":
      case "output_text":
        return { type: "text", text: part.text };
      case "refusal":
        return { type: "text", text: part.refusal };
      case "input_image": {
        if (!part.image_url)
          throw invalid(
            `${path}[${j}].image_url`,
            "is required: file_id needs stored files; send a URL or a data URL",
          );
        const match = /^data:([^;,]+);base64,(.*)$/s.exec(part.image_url);
        return match
          ? { type: "image", mediaType: match[1], data: match[2] }
          : { type: "image", url: part.image_url };
      }
      case "input_file":
        throw invalid(`${path}[${j}].type`, "input_file is not supported; send text or images");
    }
  });
}

const textOf = (parts: ContentPart[]) => parts.map((p) => (p.type === "text" ? p.text : "")).join("");

/**
 * Items → canonical messages: an assistant turn gathers the reasoning, message and function_call
 * items that follow each other; each function_call_output becomes a tool message and must answer
 * an earlier function_call.
 */
function convertItems(items: ResponsesInputItem[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const calls = new Set<string>();
  let turn: Extract<ChatMessage, { role: "assistant" }> | undefined;
  const assistantTurn = () => {
    if (!turn) {
      turn = { role: "assistant", content: "", toolCalls: [] };
      messages.push(turn);
    }
    return turn;
  };
  items.forEach((it, i) => {
    const path = `input[${i}]`;
    switch (it.type) {
      case "reasoning": {
        const text = [...it.summary.map((s) => s.text), ...(it.content ?? []).map((c) => c.text)].join("\n");
        const current = assistantTurn();
        // Reasoning comes first in a turn: after text or calls it starts the next one.
        if (current.content !== "" || current.toolCalls.length > 0) {
          turn = undefined;
          assistantTurn().reasoning = [reasoningPartOf(text, it.encrypted_content)];
        } else {
          (current.reasoning ??= []).push(reasoningPartOf(text, it.encrypted_content));
        }
        return;
      }
      case "function_call": {
        const { id, signature } = toolCallFromClientId(it.call_id);
        calls.add(id);
        assistantTurn().toolCalls.push({
          id,
          ...(signature ? { signature } : {}),
          name: it.name,
          arguments: it.arguments,
        });
        return;
      }
      case "message":
        if (it.role === "assistant") {
          const current = assistantTurn();
          // Text after calls is a new turn: upstreams put a turn's text before its calls.
          if (current.toolCalls.length > 0) {
            turn = undefined;
            assistantTurn().content = textOf(contentParts(it.content, `${path}.content`));
          } else {
            current.content += textOf(contentParts(it.content, `${path}.content`));
          }
          return;
        }
        turn = undefined;
        if (it.role === "user")
          messages.push({ role: "user", content: contentParts(it.content, `${path}.content`) });
        else messages.push({ role: "system", content: textOf(contentParts(it.content, `${path}.content`)) });
        return;
      case "function_call_output": {
        turn = undefined;
        const id = upstreamToolCallId(it.call_id);
        if (!calls.has(id))
          throw invalid(`${path}.call_id`, `"${it.call_id}" does not answer any earlier function_call item`);
        const output =
          typeof it.output === "string" ? it.output : textOf(contentParts(it.output, `${path}.output`));
        messages.push({ role: "tool", toolCallId: id, content: output });
        return;
      }
    }
  });
  return messages;
}

function convertTools(tools: ResponsesRequest["tools"]): ToolDefinition[] | undefined {
  return tools?.map((t, i) => {
    if (t.type !== "function")
      throw invalid(
        `tools[${i}].type`,
        `"${t.type}" is a built-in tool this gateway does not run; ${SUPPORTED_TOOLS}`,
      );
    const fn = parseItem(functionTool, t, `tools[${i}]`);
    return {
      name: fn.name,
      ...(fn.description ? { description: fn.description } : {}),
      parameters: fn.parameters ?? { type: "object", properties: {} },
    };
  });
}

function convertToolChoice(b: ResponsesRequest, tools: ToolDefinition[] | undefined): ToolChoice | undefined {
  const choice = b.tool_choice;
  if (choice === undefined || typeof choice === "string") return choice;
  if (choice.type !== "function" || typeof choice.name !== "string")
    throw invalid(
      "tool_choice",
      `"${choice.type}" is not supported; use "auto", "none", "required" or {"type":"function","name":...}`,
    );
  if (!tools?.some((t) => t.name === choice.name))
    throw invalid("tool_choice.name", `"${choice.name}" is not in tools`);
  return { name: choice.name };
}

function convertFormat(b: ResponsesRequest): ResponseFormat | undefined {
  const format = b.text?.format;
  if (!format) return undefined;
  if (format.type !== "json_schema") return { type: format.type };
  return {
    type: "json_schema",
    name: format.name,
    schema: format.schema,
    strict: format.strict ?? undefined,
  };
}

/** Decodes a stateless Responses API request into the canonical chat request. */
export function decodeResponsesRequest(body: unknown): DecodedChatRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new GatewayError("invalid_request", "the request body must be a JSON object");
  }
  const parsed = responsesRequestSchema.safeParse(body);
  if (!parsed.success) throw zodIssueToGatewayError(parsed.error);
  const b = parsed.data;
  refuseStatefulFields(b);
  const input =
    typeof b.input === "string"
      ? [{ role: "user" as const, content: [{ type: "text" as const, text: b.input }] }]
      : convertItems(b.input.map(item));
  const messages: ChatMessage[] = b.instructions
    ? [{ role: "system", content: b.instructions }, ...input]
    : input;
  const tools = convertTools(b.tools);
  const stream = b.stream === true;
  return {
    model: b.model,
    stream,
    // Responses streams always end with the usage in response.completed.
    includeUsage: true,
    request: {
      messages,
      tools,
      toolChoice: convertToolChoice(b, tools),
      parallelToolCalls: b.parallel_tool_calls ?? undefined,
      maxTokens: b.max_output_tokens ?? undefined,
      temperature: b.temperature ?? undefined,
      topP: b.top_p ?? undefined,
      responseFormat: convertFormat(b),
      reasoning: convertReasoningEffort(b.reasoning?.effort),
      user: b.user,
    },
    echo: {
      instructions: b.instructions ?? null,
      max_output_tokens: b.max_output_tokens ?? null,
      metadata: b.metadata ?? {},
      parallel_tool_calls: b.parallel_tool_calls ?? true,
      temperature: b.temperature ?? null,
      text: { format: b.text?.format ?? { type: "text" } },
      tool_choice: b.tool_choice ?? "auto",
      tools: b.tools ?? [],
      top_p: b.top_p ?? null,
      reasoning: { effort: b.reasoning?.effort ?? null, summary: b.reasoning?.summary ?? null },
      ...(b.user !== undefined ? { user: b.user } : {}),
    },
  };
}
