import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";

/**
 * The two client APIs of the gateway, each driven by its official SDK and reduced to what a user
 * sees: text, parsed tool calls, finish reason, usage and Switchboard's extension, plus whatever
 * about the stream's framing a client could trip over.
 */

export const WEATHER_TOOL = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
  },
};

export interface ToolCallSeen {
  id: string;
  name: string;
  /** Arguments as the client parsed them. */
  arguments: unknown;
  /** How many non-empty argument fragments the stream carried (1 when not streamed). */
  fragments: number;
}

export interface ChatCall {
  model: string;
  prompt: string;
  stream: boolean;
  tools?: boolean;
  /** A tool call the model made for `prompt`, answered with `output` in the history. */
  toolResult?: { call: ToolCallSeen; assistantText: string; output: string };
  responseFormat?: "json_object" | "json_schema";
  maxTokens?: number;
}

export interface Answer {
  text: string;
  toolCalls: ToolCallSeen[];
  finishReason: string | null;
  rawFinishReason?: string;
  usage?: { input: number | null; output: number | null };
  usageEstimated?: boolean | null;
  /** What ended a stream after it had started, if anything did. */
  streamError?: unknown;
  /** Violations of the ingress's stream framing; empty for a well-formed stream. */
  framingProblems: string[];
}

export interface ErrorSeen {
  status?: number;
  sdkClass: string;
  /** OpenAI's `error.code` or Anthropic's `error.type`. */
  code?: string | null;
  param?: string | null;
  retryAfter: string | null;
  message: string;
  /** Everything the client received about the error, for leak checks. */
  everything: string;
}

export type IngressName = "openai" | "anthropic" | "responses";

export interface IngressDriver {
  name: IngressName;
  path: string;
  /** The finish reasons as this API names them. */
  finish: { stop: string; toolCalls: string; contentFilter: string; length: string };
  chat(call: ChatCall): Promise<Answer>;
  /** The request field holding the conversation (`messages`, or the Responses API's `input`). */
  conversationField: string;
  /** A chat request without its conversation field, as a client with a bug would send it. */
  chatWithoutMessages(model: string): Promise<unknown>;
  describe(err: unknown): ErrorSeen;
}

/** Where each API lives and how it names finish reasons. */
const INGRESS_APIS: Record<
  IngressName,
  Pick<IngressDriver, "name" | "path" | "finish" | "conversationField">
> = {
  openai: {
    name: "openai",
    path: "/v1/chat/completions",
    conversationField: "messages",
    finish: { stop: "stop", toolCalls: "tool_calls", contentFilter: "content_filter", length: "length" },
  },
  anthropic: {
    name: "anthropic",
    path: "/v1/messages",
    conversationField: "messages",
    finish: { stop: "end_turn", toolCalls: "tool_use", contentFilter: "refusal", length: "max_tokens" },
  },
  // A Response has a status, and a reason only when incomplete; a tool call completes it.
  responses: {
    name: "responses",
    path: "/v1/responses",
    conversationField: "input",
    finish: {
      stop: "completed",
      toolCalls: "completed",
      contentFilter: "content_filter",
      length: "max_output_tokens",
    },
  },
};

const SWITCHBOARD = "switchboard";

interface Extension {
  raw_finish_reason?: string;
  usage_estimated?: boolean | null;
}

function extensionOf(value: unknown): Extension {
  return ((value as Record<string, unknown> | undefined)?.[SWITCHBOARD] ?? {}) as Extension;
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return `unparseable: ${text}`;
  }
}

type ApiErrorFields = Record<string, unknown> & { headers?: Headers; error?: Record<string, unknown> };

/** `code` and `message` read the SDK's own fields: OpenAI keeps the `error` object, Anthropic the whole body. */
function describeApiError(
  err: unknown,
  fields: { code(e: ApiErrorFields): unknown; message(e: ApiErrorFields): unknown },
): ErrorSeen {
  if (!(err instanceof Error)) throw err;
  const e = err as unknown as ApiErrorFields;
  return {
    status: e.status as number | undefined,
    sdkClass: err.constructor.name,
    code: fields.code(e) as string | null | undefined,
    param: e.param as string | null | undefined,
    retryAfter: e.headers?.get("retry-after") ?? null,
    message: String(fields.message(e) ?? err.message),
    everything: `${err.message} ${JSON.stringify(e.error ?? null)}`,
  };
}

type ToolRound = NonNullable<ChatCall["toolResult"]>;

/** The user's prompt, then, for a tool round trip, the model's call and the tool's answer in the API's format. */
function conversation<M>(
  call: ChatCall,
  toolRound: (round: ToolRound) => M[],
): Array<M | { role: "user"; content: string }> {
  return [{ role: "user", content: call.prompt }, ...(call.toolResult ? toolRound(call.toolResult) : [])];
}

// ------------------------------------------------------------------------------------ OpenAI

function openAiMessages(call: ChatCall): OpenAI.ChatCompletionMessageParam[] {
  return conversation<OpenAI.ChatCompletionMessageParam>(call, ({ call: tool, assistantText, output }) => [
    {
      role: "assistant",
      content: assistantText || null,
      tool_calls: [
        {
          id: tool.id,
          type: "function",
          function: { name: tool.name, arguments: JSON.stringify(tool.arguments) },
        },
      ],
    },
    { role: "tool", tool_call_id: tool.id, content: output },
  ]);
}

function openAiResponseFormat(
  mode: ChatCall["responseFormat"],
): OpenAI.ChatCompletionCreateParams["response_format"] {
  if (mode === "json_object") return { type: "json_object" };
  if (mode !== "json_schema") return undefined;
  const schema = { type: "object", properties: { reply: { type: "string" } }, required: ["reply"] };
  return { type: "json_schema", json_schema: { name: "reply", schema } };
}

/** Checks OpenAI's chunk framing: role first, id/type/name only on a call's first delta, one finish, usage last. */
function openAiFramingProblems(chunks: OpenAI.ChatCompletionChunk[]): string[] {
  const problems: string[] = [];
  const withChoices = chunks.filter((c) => c.choices.length > 0);
  if (withChoices[0]?.choices[0]?.delta.role !== "assistant")
    problems.push("first delta has no role assistant");
  const seen = new Set<number>();
  for (const chunk of withChoices) {
    for (const call of chunk.choices[0]!.delta.tool_calls ?? []) {
      const first = !seen.has(call.index);
      seen.add(call.index);
      const named = call.id !== undefined && call.type === "function" && call.function?.name !== undefined;
      if (first && !named) problems.push(`tool call ${call.index}: first delta lacks id/type/name`);
      if (!first && (call.id !== undefined || call.function?.name !== undefined))
        problems.push(`tool call ${call.index}: id or name repeated on a later delta`);
    }
  }
  if (withChoices.filter((c) => c.choices[0]!.finish_reason).length !== 1)
    problems.push("not exactly one finish chunk");
  const last = chunks.at(-1);
  if (!last || last.choices.length !== 0 || !last.usage)
    problems.push("no usage chunk with empty choices at the end");
  return problems;
}

function argumentFragments(chunks: OpenAI.ChatCompletionChunk[], index: number): number {
  return chunks
    .flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])
    .filter((call) => call.index === index && call.function?.arguments).length;
}

export function openAiDriver(baseUrl: string): IngressDriver {
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: "e2e-client", maxRetries: 0 });
  const params = (call: ChatCall) => ({
    model: call.model,
    messages: openAiMessages(call),
    ...(call.tools ? { tools: [{ type: "function" as const, function: WEATHER_TOOL }] } : {}),
    ...(call.responseFormat ? { response_format: openAiResponseFormat(call.responseFormat) } : {}),
    ...(call.maxTokens ? { max_tokens: call.maxTokens } : {}),
  });
  const toolCalls = (message: OpenAI.ChatCompletionMessage, fragments: (index: number) => number) =>
    (message.tool_calls ?? []).flatMap((c, index) =>
      c.type === "function"
        ? [
            {
              id: c.id,
              name: c.function.name,
              arguments: parseArguments(c.function.arguments),
              fragments: fragments(index),
            },
          ]
        : [],
    );

  return {
    ...INGRESS_APIS.openai,
    async chat(call) {
      if (!call.stream) {
        const completion = await client.chat.completions.create({ ...params(call), stream: false });
        const choice = completion.choices[0]!;
        const extension = extensionOf(completion);
        return {
          text: choice.message.content ?? "",
          toolCalls: toolCalls(choice.message, () => 1),
          finishReason: choice.finish_reason,
          rawFinishReason: extension.raw_finish_reason,
          usage: completion.usage && {
            input: completion.usage.prompt_tokens,
            output: completion.usage.completion_tokens,
          },
          usageEstimated: extension.usage_estimated,
          framingProblems: [],
        };
      }
      const stream = client.chat.completions.stream({
        ...params(call),
        stream_options: { include_usage: true },
      });
      const chunks: OpenAI.ChatCompletionChunk[] = [];
      try {
        for await (const chunk of stream) chunks.push(chunk);
      } catch (err) {
        const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
        return { text, toolCalls: [], finishReason: null, streamError: err, framingProblems: [] };
      }
      const final = await stream.finalChatCompletion();
      const finishChunk = chunks.find((c) => c.choices[0]?.finish_reason);
      const extension = extensionOf(finishChunk);
      const usage = chunks.at(-1)?.usage;
      return {
        text: final.choices[0]!.message.content ?? "",
        toolCalls: toolCalls(final.choices[0]!.message, (index) => argumentFragments(chunks, index)),
        finishReason: finishChunk?.choices[0]?.finish_reason ?? null,
        rawFinishReason: extension.raw_finish_reason,
        usage: usage ? { input: usage.prompt_tokens, output: usage.completion_tokens } : undefined,
        usageEstimated: extension.usage_estimated,
        framingProblems: openAiFramingProblems(chunks),
      };
    },
    chatWithoutMessages: (model) =>
      client.chat.completions.create({ model } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
    describe: (err) => describeApiError(err, { code: (e) => e.code, message: (e) => e.error?.message }),
  };
}

// ------------------------------------------------------------------------------------ Anthropic

function anthropicMessages(call: ChatCall): Anthropic.MessageParam[] {
  return conversation<Anthropic.MessageParam>(call, ({ call: tool, assistantText, output }) => [
    {
      role: "assistant",
      content: [
        ...(assistantText ? [{ type: "text" as const, text: assistantText }] : []),
        { type: "tool_use", id: tool.id, name: tool.name, input: tool.arguments },
      ],
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: tool.id, content: output }] },
  ]);
}

/** Checks Anthropic's event order: message_start, blocks opened and closed in index order, one message_delta, message_stop. */
function anthropicFramingProblems(events: Anthropic.MessageStreamEvent[]): string[] {
  const problems: string[] = [];
  if (events[0]?.type !== "message_start") problems.push("stream does not open with message_start");
  if (events.at(-1)?.type !== "message_stop") problems.push("stream does not end with message_stop");
  if (events.filter((e) => e.type === "message_delta").length !== 1)
    problems.push("not exactly one message_delta");
  let open: number | undefined;
  let next = 0;
  for (const event of events) {
    if (event.type === "content_block_start") {
      if (open !== undefined) problems.push(`block ${event.index} starts while ${open} is open`);
      if (event.index !== next) problems.push(`block ${event.index} starts where ${next} was due`);
      if (event.content_block.type === "tool_use" && (!event.content_block.id || !event.content_block.name))
        problems.push(`tool_use block ${event.index} lacks id or name`);
      open = event.index;
      next++;
    } else if (event.type === "content_block_delta" && event.index !== open) {
      problems.push(`delta for block ${event.index} outside it`);
    } else if (event.type === "content_block_stop") {
      if (event.index !== open) problems.push(`stop for block ${event.index} that is not open`);
      open = undefined;
    }
  }
  return problems;
}

function jsonFragments(events: Anthropic.MessageStreamEvent[], blockIndex: number): number {
  return events.filter(
    (e) =>
      e.type === "content_block_delta" &&
      e.index === blockIndex &&
      e.delta.type === "input_json_delta" &&
      e.delta.partial_json,
  ).length;
}

function answerFromMessage(
  message: Anthropic.Message,
  fragments: (blockIndex: number) => number,
  extension: Extension,
): Answer {
  return {
    text: message.content.map((b) => (b.type === "text" ? b.text : "")).join(""),
    toolCalls: message.content.flatMap((b, index) =>
      b.type === "tool_use"
        ? [{ id: b.id, name: b.name, arguments: b.input, fragments: fragments(index) }]
        : [],
    ),
    finishReason: message.stop_reason,
    rawFinishReason: extension.raw_finish_reason,
    usage: { input: message.usage.input_tokens, output: message.usage.output_tokens },
    usageEstimated: extension.usage_estimated,
    framingProblems: [],
  };
}

export function anthropicDriver(baseUrl: string): IngressDriver {
  const client = new Anthropic({ baseURL: baseUrl, apiKey: "e2e-client", maxRetries: 0 });
  const params = (call: ChatCall) => ({
    model: call.model,
    max_tokens: call.maxTokens ?? 256,
    messages: anthropicMessages(call),
    ...(call.tools
      ? {
          tools: [
            {
              name: WEATHER_TOOL.name,
              description: WEATHER_TOOL.description,
              input_schema: WEATHER_TOOL.parameters as Anthropic.Tool.InputSchema,
            },
          ],
        }
      : {}),
  });

  return {
    ...INGRESS_APIS.anthropic,
    async chat(call) {
      if (!call.stream) {
        const message = await client.messages.create(params(call));
        return answerFromMessage(message, () => 1, extensionOf(message));
      }
      const stream = client.messages.stream(params(call));
      const events: Anthropic.MessageStreamEvent[] = [];
      try {
        for await (const event of stream) events.push(event);
      } catch (err) {
        const text = events
          .map((e) => (e.type === "content_block_delta" && e.delta.type === "text_delta" ? e.delta.text : ""))
          .join("");
        return { text, toolCalls: [], finishReason: null, streamError: err, framingProblems: [] };
      }
      const delta = events.find((e) => e.type === "message_delta");
      const answer = answerFromMessage(
        await stream.finalMessage(),
        (index) => jsonFragments(events, index),
        extensionOf(delta),
      );
      return { ...answer, framingProblems: anthropicFramingProblems(events) };
    },
    chatWithoutMessages: (model) =>
      client.messages.create({
        model,
        max_tokens: 16,
      } as unknown as Anthropic.MessageCreateParamsNonStreaming),
    describe: (err) => describeApiError(err, { code: (e) => e.type, message: (e) => e.apiMessage }),
  };
}

// ------------------------------------------------------------------------------------ Responses

function responsesInput(call: ChatCall): OpenAI.Responses.ResponseInputItem[] {
  return conversation<OpenAI.Responses.ResponseInputItem>(call, ({ call: tool, assistantText, output }) => [
    ...(assistantText ? [{ role: "assistant" as const, content: assistantText }] : []),
    { type: "function_call", call_id: tool.id, name: tool.name, arguments: JSON.stringify(tool.arguments) },
    { type: "function_call_output", call_id: tool.id, output },
  ]);
}

function responsesFormat(mode: ChatCall["responseFormat"]): OpenAI.Responses.ResponseTextConfig | undefined {
  if (mode === "json_object") return { format: { type: "json_object" } };
  if (mode !== "json_schema") return undefined;
  const schema = { type: "object", properties: { reply: { type: "string" } }, required: ["reply"] };
  return { format: { type: "json_schema", name: "reply", schema } };
}

type StreamEvent = OpenAI.Responses.ResponseStreamEvent;

/**
 * Checks the Responses event grammar: sequence numbers 0, 1, 2…; response.created then
 * response.in_progress; every item added before its deltas and done after them, at the index it
 * was added; text inside an added content part; exactly one terminal event, last, whose output
 * is the items done.
 */
function responsesFramingProblems(events: StreamEvent[]): string[] {
  const problems: string[] = [];
  events.forEach((e, i) => {
    if (e.sequence_number !== i)
      problems.push(`event ${i} (${e.type}) has sequence_number ${e.sequence_number}`);
  });
  if (events[0]?.type !== "response.created") problems.push("stream does not open with response.created");
  if (events[1]?.type !== "response.in_progress") problems.push("response.in_progress is not second");
  const open = new Map<number, string>();
  const done: unknown[] = [];
  const parts = new Set<string>();
  for (const e of events) {
    switch (e.type) {
      case "response.output_item.added":
        if (e.output_index !== open.size + done.length)
          problems.push(`item added at ${e.output_index} out of order`);
        open.set(e.output_index, e.item.id!);
        break;
      case "response.content_part.added":
        parts.add(`${e.item_id}/${e.content_index}`);
        break;
      case "response.output_text.delta":
        if (!parts.has(`${e.item_id}/${e.content_index}`)) problems.push(`text delta outside a content part`);
        if (open.get(e.output_index) !== e.item_id)
          problems.push(`text delta for item ${e.item_id} not open`);
        break;
      case "response.function_call_arguments.delta":
        if (open.get(e.output_index) !== e.item_id)
          problems.push(`arguments delta for item ${e.item_id} not open`);
        break;
      case "response.output_item.done":
        if (open.get(e.output_index) !== e.item.id) problems.push(`item ${e.item.id} done but not open`);
        open.delete(e.output_index);
        done[e.output_index] = e.item;
        break;
    }
  }
  if (open.size > 0) problems.push(`items never done: ${[...open.values()].join(", ")}`);
  const terminal = events.filter((e) => e.type === "response.completed" || e.type === "response.incomplete");
  if (terminal.length !== 1 || events.at(-1) !== terminal[0])
    problems.push("not exactly one terminal event, last");
  else if (
    JSON.stringify((terminal[0] as { response: OpenAI.Responses.Response }).response.output) !==
    JSON.stringify(done)
  )
    problems.push("the terminal response's output differs from the items done");
  return problems;
}

function answerFromResponse(
  response: OpenAI.Responses.Response,
  fragments: (itemId: string) => number,
): Answer {
  const extension = extensionOf(response);
  return {
    text: response.output_text,
    toolCalls: response.output.flatMap((item) =>
      item.type === "function_call"
        ? [
            {
              id: item.call_id,
              name: item.name,
              arguments: parseArguments(item.arguments),
              fragments: fragments(item.id!),
            },
          ]
        : [],
    ),
    finishReason:
      response.status === "incomplete"
        ? (response.incomplete_details?.reason ?? null)
        : (response.status ?? null),
    rawFinishReason: extension.raw_finish_reason,
    usage: response.usage && { input: response.usage.input_tokens, output: response.usage.output_tokens },
    usageEstimated: extension.usage_estimated,
    framingProblems: [],
  };
}

export function responsesDriver(baseUrl: string): IngressDriver {
  const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: "e2e-client", maxRetries: 0 });
  const params = (call: ChatCall) => ({
    model: call.model,
    input: responsesInput(call),
    ...(call.tools ? { tools: [{ type: "function" as const, strict: false, ...WEATHER_TOOL }] } : {}),
    ...(call.responseFormat ? { text: responsesFormat(call.responseFormat) } : {}),
    ...(call.maxTokens ? { max_output_tokens: call.maxTokens } : {}),
  });

  return {
    ...INGRESS_APIS.responses,
    async chat(call) {
      if (!call.stream)
        return answerFromResponse(await client.responses.create({ ...params(call), stream: false }), () => 1);
      const stream = client.responses.stream(params(call));
      const events: StreamEvent[] = [];
      try {
        for await (const event of stream) events.push(event);
      } catch (err) {
        const text = events.map((e) => (e.type === "response.output_text.delta" ? e.delta : "")).join("");
        return { text, toolCalls: [], finishReason: null, streamError: err, framingProblems: [] };
      }
      const fragments = (itemId: string) =>
        events.filter(
          (e) => e.type === "response.function_call_arguments.delta" && e.item_id === itemId && e.delta,
        ).length;
      return {
        ...answerFromResponse(await stream.finalResponse(), fragments),
        framingProblems: responsesFramingProblems(events),
      };
    },
    chatWithoutMessages: (model) =>
      client.responses.create({ model } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming),
    describe: (err) => describeApiError(err, { code: (e) => e.code, message: (e) => e.error?.message }),
  };
}
