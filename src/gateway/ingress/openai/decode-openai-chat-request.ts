import { z } from "zod";
import type {
  ChatMessage,
  ContentPart,
  ReasoningRequest,
  ResponseFormat,
  ToolChoice,
} from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import type { DecodedChatRequest } from "../chat-ingress-format.js";
import { toolCallFromClientId, upstreamToolCallId } from "../tool-call-id-carrier.js";
import { zodIssueToGatewayError } from "../zod-issue-error.js";

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const imagePart = z.object({
  type: z.literal("image_url"),
  image_url: z.object({ url: z.string().min(1), detail: z.string().optional() }),
});
const userContent = z.union([z.string(), z.array(z.discriminatedUnion("type", [textPart, imagePart]))]);
const textContent = z.union([z.string(), z.array(textPart)]);

const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal("function"),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const message = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content: textContent, name: z.string().optional() }),
  z.object({ role: z.literal("developer"), content: textContent, name: z.string().optional() }),
  z.object({ role: z.literal("user"), content: userContent, name: z.string().optional() }),
  z.object({
    role: z.literal("assistant"),
    content: textContent.nullable().optional(),
    tool_calls: z.array(toolCall).optional(),
    refusal: z.string().nullable().optional(),
    name: z.string().optional(),
  }),
  z.object({ role: z.literal("tool"), content: textContent, tool_call_id: z.string().min(1) }),
]);

const tool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '_' or '-'"),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const chatRequestSchema = z.object({
  model: z.string({ error: "is required: name the model (route) to call" }).min(1, "must not be empty"),
  messages: z
    .array(message, { error: "is required: an array of chat messages" })
    .min(1, "must contain at least one message"),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  tools: z.array(tool).optional(),
  tool_choice: z
    .union([
      z.enum(["auto", "none", "required"]),
      z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) }),
    ])
    .optional(),
  parallel_tool_calls: z.boolean().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  n: z.literal(1, { error: "only n=1 is supported" }).nullable().optional(),
  response_format: z
    .discriminatedUnion("type", [
      z.object({ type: z.literal("text") }),
      z.object({ type: z.literal("json_object") }),
      z.object({
        type: z.literal("json_schema"),
        json_schema: z.object({
          name: z.string(),
          schema: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullable().optional(),
        }),
      }),
    ])
    .optional(),
  user: z.string().optional(),
  reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullable().optional(),
});

type WireMessage = z.infer<typeof message>;

function joinText(content: string | Array<{ text: string }>): string {
  return typeof content === "string" ? content : content.map((p) => p.text).join("");
}

function parseDataUrl(url: string): ContentPart {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return match ? { type: "image", mediaType: match[1], data: match[2] } : { type: "image", url };
}

function convertMessage(m: WireMessage): ChatMessage {
  switch (m.role) {
    case "system":
    case "developer":
      return { role: "system", content: joinText(m.content) };
    case "user":
      return {
        role: "user",
        content:
          typeof m.content === "string"
            ? [{ type: "text", text: m.content }]
            : m.content.map((p) =>
                p.type === "text" ? { type: "text", text: p.text } : parseDataUrl(p.image_url.url),
              ),
      };
    case "assistant": {
      const calls = (m.tool_calls ?? []).map((c) => ({ ...toolCallFromClientId(c.id), call: c }));
      // The turn's signed reasoning rides in its first call's id.
      const reasoning = calls[0]?.reasoning ?? [];
      return {
        role: "assistant",
        content: m.content == null ? "" : joinText(m.content),
        toolCalls: calls.map(({ id, signature, call }) => ({
          id,
          ...(signature ? { signature } : {}),
          name: call.function.name,
          arguments: call.function.arguments,
        })),
        ...(reasoning.length > 0 ? { reasoning } : {}),
      };
    }
    case "tool":
      return { role: "tool", toolCallId: upstreamToolCallId(m.tool_call_id), content: joinText(m.content) };
  }
}

/** OpenAI's reasoning effort, as chat completions and the Responses API both name it. */
export function convertReasoningEffort(
  effort: z.infer<typeof chatRequestSchema>["reasoning_effort"],
): ReasoningRequest | undefined {
  if (effort == null) return undefined;
  if (effort === "none") return { enabled: false };
  return { enabled: true, effort: effort === "xhigh" ? "high" : effort };
}

function convertResponseFormat(
  format: z.infer<typeof chatRequestSchema>["response_format"],
): ResponseFormat | undefined {
  if (!format) return undefined;
  if (format.type !== "json_schema") return { type: format.type };
  return {
    type: "json_schema",
    name: format.json_schema.name,
    schema: format.json_schema.schema ?? {},
    strict: format.json_schema.strict ?? undefined,
  };
}

export function decodeOpenAiChatRequest(body: unknown): DecodedChatRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new GatewayError("invalid_request", "the request body must be a JSON object");
  }
  const parsed = chatRequestSchema.safeParse(body);
  if (!parsed.success) throw zodIssueToGatewayError(parsed.error);
  const b = parsed.data;
  const toolIds = new Set(
    b.messages.flatMap((m) => (m.role === "assistant" ? (m.tool_calls ?? []).map((c) => c.id) : [])),
  );
  b.messages.forEach((m, i) => {
    if (m.role === "tool" && !toolIds.has(m.tool_call_id)) {
      throw new GatewayError(
        "invalid_request",
        `messages[${i}].tool_call_id "${m.tool_call_id}" does not answer any tool call of an earlier assistant message`,
        { param: `messages[${i}].tool_call_id` },
      );
    }
  });
  const toolChoice: ToolChoice | undefined =
    b.tool_choice === undefined
      ? undefined
      : typeof b.tool_choice === "string"
        ? b.tool_choice
        : { name: b.tool_choice.function.name };
  if (typeof toolChoice === "object" && !b.tools?.some((t) => t.function.name === toolChoice.name)) {
    throw new GatewayError(
      "invalid_request",
      `tool_choice names "${toolChoice.name}", which is not in tools`,
      {
        param: "tool_choice",
      },
    );
  }
  const stream = b.stream === true;
  return {
    model: b.model,
    stream,
    includeUsage: stream && b.stream_options?.include_usage === true,
    request: {
      messages: b.messages.map(convertMessage),
      tools: b.tools?.map((t) => ({
        name: t.function.name,
        description: t.function.description,
        parameters: t.function.parameters ?? { type: "object", properties: {} },
      })),
      toolChoice,
      parallelToolCalls: b.parallel_tool_calls,
      maxTokens: b.max_completion_tokens ?? b.max_tokens ?? undefined,
      temperature: b.temperature ?? undefined,
      topP: b.top_p ?? undefined,
      stop: b.stop == null ? undefined : typeof b.stop === "string" ? [b.stop] : b.stop,
      responseFormat: convertResponseFormat(b.response_format),
      reasoning: convertReasoningEffort(b.reasoning_effort),
      user: b.user,
    },
  };
}
