import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import {
  sendJson,
  startFakeServer,
  writeSse,
  type FakeServer,
  type RecordedRequest,
} from "./fake-http-server.js";

/**
 * A protocol-faithful stand-in for Anthropic's Messages API (anthropic-version 2023-06-01 and
 * 2026-10-21, which rejects temperature/top_p/top_k): POST /v1/messages (JSON and SSE),
 * POST /v1/messages/count_tokens, GET /v1/models, API-key auth (x-api-key, or a bearer token as SDK 1.x sends it) and the
 * API's own error bodies. Answers are deterministic: "You said: <last user text>", a tool call
 * when tools are offered and the last user text mentions "weather", and trigger words:
 *
 * - TRIGGER_CONTEXT_LENGTH      → 400 invalid_request_error "prompt is too long: N tokens > M maximum"
 * - TRIGGER_RATE_LIMIT          → 429 rate_limit_error with retry-after: 7
 * - TRIGGER_CONTENT_FILTER      → 200 with stop_reason "refusal"
 * - TRIGGER_STREAM_ERROR        → in a stream, `event: error` overloaded_error after the first text delta
 * - TRIGGER_EARLY_STREAM_ERROR  → in a stream, `event: error` overloaded_error before any other event
 *
 * Like the API, a request whose history holds tool_use or tool_result blocks must define tools
 * (400 invalid_request_error), even when it only wants a text answer.
 *
 * Stricter than today's API in one way: consecutive turns of one role are rejected (the live API
 * merges them), so adapters are checked to send alternating turns themselves.
 */

export const ANTHROPIC_FAKE_MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"];

export interface AnthropicFakeOptions {
  apiKey: string;
  /** Models listed by GET /v1/models; when set, POST /v1/messages rejects others with not_found_error. */
  models?: string[];
}

export interface AnthropicMessagesOptions {
  /** Known models; unknown ones get a 404 not_found_error. Any model is served when unset. */
  models?: string[];
  /**
   * Claude on Vertex (rawPredict/streamRawPredict): the model comes from the URL, and the body
   * must carry `anthropic_version` and must not carry `model`.
   */
  vertex?: { model: string; anthropicVersion: string };
  /** Prompt-cache state: blocks marked cache_control are written on first sight, read afterwards. */
  promptCache?: Set<string>;
  /** The anthropic-version in force; 2026-10-21 removed the sampling parameters. Default 2023-06-01. */
  apiVersion?: string;
}

export const API_VERSIONS = ["2023-06-01", "2026-10-21"];

type Json = Record<string, unknown>;

interface PlannedText {
  type: "text";
  text: string;
}
interface PlannedToolUse {
  type: "tool_use";
  id: string;
  name: string;
  input: Json;
}
interface PlannedThinking {
  type: "thinking";
  thinking: string;
  signature: string;
}
interface PlannedRedactedThinking {
  type: "redacted_thinking";
  data: string;
}
type PlannedBlock = PlannedText | PlannedToolUse | PlannedThinking | PlannedRedactedThinking;

interface Plan {
  blocks: PlannedBlock[];
  stopReason: "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";
  stopSequence: string | null;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 24);
}

/** Writes Anthropic's error body: `{type: "error", error: {type, message}, request_id}`. */
export function sendAnthropicError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const requestId = `req_fake_${shortHash(`${type}:${message}`)}`;
  sendJson(
    res,
    status,
    { type: "error", error: { type, message }, request_id: requestId },
    { "request-id": requestId, ...headers },
  );
}

/** The fake's token count: a quarter of the characters, like real tokenizers on English text. */
function tokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

const ALLOWED_FIELDS = new Set([
  "model",
  "messages",
  "max_tokens",
  "system",
  "metadata",
  "stop_sequences",
  "stream",
  "temperature",
  "top_p",
  "top_k",
  "tools",
  "tool_choice",
  "thinking",
  "service_tier",
  "output_config",
  "container",
  "inference_geo",
]);

const IMAGE_MEDIA_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];

function invalid(message: string): ApiError {
  return new ApiError(400, "invalid_request_error", message);
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The fake's thinking signature: checkable from the thinking text, opaque to the gateway. Like
 * Claude's, it verifies on every platform that serves Claude (the Bedrock fake checks it too).
 */
export function thinkingSignatureOf(thinking: string): string {
  return createHash("sha256").update(`anthropic-fake-thinking:${thinking}`).digest("base64");
}

const REDACTED_PREFIX = "RkFLRS1SRURBQ1RFRA";

function blocksOf(content: unknown): Json[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : (content as Json[]);
}

function validateBlock(block: unknown, path: string, role: string): void {
  if (!isObject(block)) throw invalid(`${path}: Input should be a valid dictionary or object`);
  switch (block.type) {
    case "text":
      if (typeof block.text !== "string") throw invalid(`${path}.text: Field required`);
      if (block.text.trim() === "")
        throw invalid("messages: text content blocks must contain non-whitespace text");
      return;
    case "image": {
      if (role !== "user") throw invalid(`${path}: image blocks are only allowed in user messages`);
      const source = block.source;
      if (!isObject(source)) throw invalid(`${path}.source: Field required`);
      if (source.type === "base64") {
        if (!IMAGE_MEDIA_TYPES.includes(String(source.media_type))) {
          throw invalid(
            `${path}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`,
          );
        }
        if (typeof source.data !== "string" || source.data === "")
          throw invalid(`${path}.source.base64.data: Field required`);
        return;
      }
      if (source.type === "url") {
        if (typeof source.url !== "string" || !/^https?:\/\//.test(source.url))
          throw invalid(`${path}.source.url.url: Input should be a valid URL`);
        return;
      }
      throw invalid(
        `${path}.source: Input tag '${String(source.type)}' found using 'type' does not match any of the expected tags: 'base64', 'url'`,
      );
    }
    case "tool_use":
      if (role !== "assistant")
        throw invalid(`${path}: tool_use blocks are only allowed in assistant messages`);
      if (typeof block.id !== "string" || typeof block.name !== "string")
        throw invalid(`${path}.id: Field required`);
      if (!isObject(block.input)) throw invalid(`${path}.input: Input should be a valid dictionary`);
      return;
    case "thinking":
      if (role !== "assistant")
        throw invalid(`${path}: thinking blocks are only allowed in assistant messages`);
      if (typeof block.thinking !== "string") throw invalid(`${path}.thinking.thinking: Field required`);
      if (typeof block.signature !== "string") throw invalid(`${path}.thinking.signature: Field required`);
      if (block.signature !== thinkingSignatureOf(block.thinking))
        throw invalid(`${path}: Invalid \`signature\` in \`thinking\` block`);
      return;
    case "redacted_thinking":
      if (role !== "assistant")
        throw invalid(`${path}: redacted_thinking blocks are only allowed in assistant messages`);
      if (typeof block.data !== "string" || !block.data.startsWith(REDACTED_PREFIX))
        throw invalid(`${path}: Invalid \`data\` in \`redacted_thinking\` block`);
      return;
    case "tool_result":
      if (role !== "user") throw invalid(`${path}: tool_result blocks are only allowed in user messages`);
      if (typeof block.tool_use_id !== "string") throw invalid(`${path}.tool_use_id: Field required`);
      return;
    default:
      throw invalid(
        `${path}: Input tag '${String(block.type)}' found using 'type' does not match any of the expected tags`,
      );
  }
}

/** Checks that every tool_use is answered by leading tool_result blocks in the next turn, and vice versa. */
function validateToolPairing(messages: Json[]): void {
  messages.forEach((message, i) => {
    const blocks = blocksOf(message.content);
    const previous = i > 0 ? blocksOf(messages[i - 1]!.content) : [];
    const useIds = new Set(previous.filter((b) => b.type === "tool_use").map((b) => String(b.id)));
    blocks.forEach((block, j) => {
      if (block.type === "tool_result" && !useIds.has(String(block.tool_use_id))) {
        throw invalid(
          `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
    });
    if (message.role !== "assistant") return;
    const ids = blocks.filter((b) => b.type === "tool_use").map((b) => String(b.id));
    if (ids.length === 0) return;
    const next = messages[i + 1];
    if (!next) return;
    const nextBlocks = blocksOf(next.content);
    const leading: string[] = [];
    for (const block of nextBlocks) {
      if (block.type !== "tool_result") break;
      leading.push(String(block.tool_use_id));
    }
    const missing = ids.filter((id) => !leading.includes(id));
    if (missing.length === 0) return;
    const answeredLater = nextBlocks.some(
      (b) => b.type === "tool_result" && missing.includes(String(b.tool_use_id)),
    );
    if (answeredLater) {
      throw invalid(
        `messages.${i + 1}: Did not find ${ids.length} \`tool_result\` block(s) at the beginning of this message. Messages following \`tool_use\` blocks must begin with a matching number of \`tool_result\` blocks.`,
      );
    }
    throw invalid(
      `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
    );
  });
}

interface ValidRequest {
  model: string;
  maxTokens: number;
  messages: Json[];
  tools: Json[];
  toolChoice?: Json;
  stopSequences: string[];
  stream: boolean;
  jsonSchema?: Json;
  thinking: boolean;
}

/** The thinking parameter as the API checks it; true when the model is to think. */
function validateThinking(body: Json, maxTokens: number): boolean {
  const thinking = body.thinking;
  if (thinking === undefined) return false;
  if (!isObject(thinking) || !["enabled", "adaptive", "disabled"].includes(String(thinking.type))) {
    throw invalid(
      "thinking: Input tag does not match any of the expected tags: 'enabled', 'adaptive', 'disabled'",
    );
  }
  if (thinking.type === "disabled") return false;
  if (thinking.type === "enabled") {
    const budget = thinking.budget_tokens;
    if (!Number.isInteger(budget)) throw invalid("thinking.enabled.budget_tokens: Field required");
    if ((budget as number) < 1024)
      throw invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024");
    if (maxTokens <= (budget as number)) {
      throw invalid(
        "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size",
      );
    }
  }
  if (body.temperature !== undefined && body.temperature !== 1)
    throw invalid(
      "`temperature` may only be set to 1 when thinking is enabled or in interleaved thinking mode.",
    );
  return true;
}

/** Where the current turn began: the last user message that is not only tool results. */
function currentTurnStart(messages: Json[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === "user" && !blocksOf(messages[i]!.content).some((b) => b.type === "tool_result"))
      return i;
  }
  return 0;
}

/**
 * With thinking on, a tool loop is one assistant turn: each of its assistant messages must come
 * back starting with its thinking, unchanged (as this fake, like interleaved thinking, thinks in
 * every step).
 */
function validateThinkingToolLoop(messages: Json[]): void {
  const last = messages.at(-1)!;
  if (last.role !== "user" || !blocksOf(last.content).some((b) => b.type === "tool_result")) return;
  for (let i = currentTurnStart(messages) + 1; i < messages.length; i++) {
    if (messages[i]!.role !== "assistant") continue;
    const first = blocksOf(messages[i]!.content)[0];
    if (first && first.type !== "thinking" && first.type !== "redacted_thinking") {
      throw invalid(
        `messages.${i}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first.type)}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking`,
      );
    }
  }
}

function validate(body: unknown, options: AnthropicMessagesOptions): ValidRequest {
  if (!isObject(body))
    throw invalid(
      "There was an error parsing the body of your request. Please double check it's valid JSON.",
    );
  for (const key of Object.keys(body)) {
    if (key === "anthropic_version" && options.vertex) continue;
    if (key === "model" && options.vertex) throw invalid("model: Extra inputs are not permitted");
    if (!ALLOWED_FIELDS.has(key)) throw invalid(`${key}: Extra inputs are not permitted`);
  }
  if (options.vertex) {
    if (body.anthropic_version === undefined) throw invalid("anthropic_version: Field required");
    if (body.anthropic_version !== options.vertex.anthropicVersion) {
      throw invalid(`anthropic_version: Input should be '${options.vertex.anthropicVersion}'`);
    }
  }
  const model = options.vertex?.model ?? body.model;
  if (typeof model !== "string" || model === "") throw invalid("model: Field required");
  if (options.models && !options.models.includes(model))
    throw new ApiError(404, "not_found_error", `model: ${model}`);
  if (body.max_tokens === undefined) throw invalid("max_tokens: Field required");
  if (!Number.isInteger(body.max_tokens)) throw invalid("max_tokens: Input should be a valid integer");
  if ((body.max_tokens as number) < 1)
    throw invalid("max_tokens: Input should be greater than or equal to 1");
  if (body.messages === undefined) throw invalid("messages: Field required");
  if (!Array.isArray(body.messages)) throw invalid("messages: Input should be a valid list");
  if (body.messages.length === 0) throw invalid("messages: at least one message is required");
  const messages = body.messages as unknown[];
  messages.forEach((message, i) => {
    if (!isObject(message)) throw invalid(`messages.${i}: Input should be a valid dictionary`);
    if (message.role !== "user" && message.role !== "assistant")
      throw invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    const previous = messages[i - 1] as Json | undefined;
    if (previous && previous.role === message.role) {
      throw invalid(
        `messages: roles must alternate between "user" and "assistant", but found multiple "${message.role}" roles in a row`,
      );
    }
    const isFinalAssistant = i === messages.length - 1 && message.role === "assistant";
    if (typeof message.content === "string") {
      if (message.content === "" && !isFinalAssistant) {
        throw invalid(
          `messages.${i}: all messages must have non-empty content except for the optional final assistant message`,
        );
      }
      return;
    }
    if (!Array.isArray(message.content)) throw invalid(`messages.${i}.content: Field required`);
    if (message.content.length === 0 && !isFinalAssistant) {
      throw invalid(
        `messages.${i}: all messages must have non-empty content except for the optional final assistant message`,
      );
    }
    message.content.forEach((block, j) =>
      validateBlock(block, `messages.${i}.content.${j}`, message.role as string),
    );
  });
  validateToolPairing(messages as Json[]);
  if (body.system !== undefined && typeof body.system !== "string" && !Array.isArray(body.system)) {
    throw invalid("system: Input should be a valid string");
  }
  const tools = (body.tools ?? []) as unknown[];
  if (!Array.isArray(tools)) throw invalid("tools: Input should be a valid list");
  tools.forEach((tool, i) => {
    if (!isObject(tool)) throw invalid(`tools.${i}: Input should be a valid dictionary`);
    if (typeof tool.name !== "string" || !/^[a-zA-Z0-9_-]{1,128}$/.test(tool.name)) {
      throw invalid(`tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
    }
    if (!isObject(tool.input_schema)) throw invalid(`tools.${i}.custom.input_schema: Field required`);
    if (tool.input_schema.type !== "object")
      throw invalid(`tools.${i}.custom.input_schema.type: Input should be 'object'`);
  });
  const hasToolBlocks = (messages as Json[]).some((message) =>
    blocksOf(message.content).some((b) => b.type === "tool_use" || b.type === "tool_result"),
  );
  if (hasToolBlocks && tools.length === 0)
    throw invalid("Requests which include `tool_use` or `tool_result` blocks must define tools.");
  let toolChoice: Json | undefined;
  if (body.tool_choice !== undefined) {
    if (
      !isObject(body.tool_choice) ||
      !["auto", "any", "tool", "none"].includes(String(body.tool_choice.type))
    ) {
      throw invalid(
        "tool_choice: Input tag does not match any of the expected tags: 'auto', 'any', 'tool', 'none'",
      );
    }
    if (body.tool_choice.type === "tool" && typeof body.tool_choice.name !== "string")
      throw invalid("tool_choice.tool.name: Field required");
    toolChoice = body.tool_choice;
  }
  for (const field of ["temperature", "top_p", "top_k"] as const) {
    const value = body[field];
    if (value === undefined) continue;
    if (options.apiVersion === "2026-10-21") {
      throw invalid(
        `${field}: This parameter is not supported in API version 2026-10-21; remove it from the request`,
      );
    }
    if (field === "top_k") continue;
    if (typeof value !== "number") throw invalid(`${field}: Input should be a valid number`);
    if (value < 0) throw invalid(`${field}: Input should be greater than or equal to 0`);
    if (value > 1) throw invalid(`${field}: Input should be less than or equal to 1`);
  }
  const stopSequences = (body.stop_sequences ?? []) as unknown[];
  if (!Array.isArray(stopSequences) || stopSequences.some((s) => typeof s !== "string"))
    throw invalid("stop_sequences: Input should be a valid list");
  if (body.stream !== undefined && typeof body.stream !== "boolean")
    throw invalid("stream: Input should be a valid boolean");
  let jsonSchema: Json | undefined;
  if (body.output_config !== undefined) {
    const format = isObject(body.output_config) ? body.output_config.format : undefined;
    if (format !== undefined && format !== null) {
      if (!isObject(format) || format.type !== "json_schema" || !isObject(format.schema)) {
        throw invalid("output_config.format: expected {type: 'json_schema', schema: {...}}");
      }
      jsonSchema = format.schema;
    }
  }
  const thinking = validateThinking(body, body.max_tokens as number);
  if (thinking) validateThinkingToolLoop(messages as Json[]);
  return {
    thinking,
    model,
    maxTokens: body.max_tokens as number,
    messages: messages as Json[],
    tools: tools as Json[],
    toolChoice,
    stopSequences: stopSequences as string[],
    stream: body.stream === true,
    jsonSchema,
  };
}

function lastUserBlocks(messages: Json[]): Json[] {
  const last = [...messages].reverse().find((m) => m.role === "user");
  return last ? blocksOf(last.content) : [];
}

function textOf(blocks: Json[]): string {
  return blocks
    .filter((b) => b.type === "text")
    .map((b) => String(b.text))
    .join(" ");
}

function toolResultText(block: Json): string {
  return typeof block.content === "string"
    ? block.content
    : Array.isArray(block.content)
      ? textOf(block.content as Json[])
      : "";
}

/** A value of the schema's shape: strings carry the echo, so answers stay recognisable. */
function sampleFor(schema: Json, echo: string): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  switch (schema.type) {
    case "object": {
      const properties = isObject(schema.properties) ? schema.properties : {};
      return Object.fromEntries(
        Object.entries(properties).map(([key, value]) => [
          key,
          sampleFor(isObject(value) ? value : {}, echo),
        ]),
      );
    }
    case "array":
      return [];
    case "number":
    case "integer":
      return 0;
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return echo;
  }
}

/** Thinking first when it is on: readable and signed, plus a redacted block when asked for. */
function withThinking(request: ValidRequest, plan: Plan, text: string): Plan {
  if (!request.thinking || plan.stopReason === "refusal") return plan;
  const thinking = `Thinking about: ${text || "the tool results"}`;
  const blocks: PlannedBlock[] = [{ type: "thinking", thinking, signature: thinkingSignatureOf(thinking) }];
  if (text.includes("TRIGGER_REDACTED_THINKING"))
    blocks.push({ type: "redacted_thinking", data: `${REDACTED_PREFIX}${shortHash(text)}` });
  return { ...plan, blocks: [...blocks, ...plan.blocks] };
}

function planAnswer(request: ValidRequest, idSeed: string): Plan {
  const text = textOf(lastUserBlocks(request.messages));
  return withThinking(request, planVisibleAnswer(request, idSeed), text);
}

function planVisibleAnswer(request: ValidRequest, idSeed: string): Plan {
  const blocks = lastUserBlocks(request.messages);
  const text = textOf(blocks);
  if (text.includes("TRIGGER_CONTENT_FILTER"))
    return { blocks: [], stopReason: "refusal", stopSequence: null };

  const results = blocks.filter((b) => b.type === "tool_result");
  const choice = request.toolChoice?.type;
  const forced = choice === "any" || choice === "tool";
  // "in Paris and London ... at a time": one call per city, each after the previous result.
  const start = currentTurnStart(request.messages);
  const prompt = textOf(blocksOf(request.messages[start]!.content));
  const cities = /\bin ([A-Z][A-Za-z -]*?)(?:[?.!,]|$)/.exec(prompt)?.[1]?.split(" and ") ?? [];
  const stepsDone = request.messages
    .slice(start + 1)
    .filter((m) => blocksOf(m.content).some((b) => b.type === "tool_use")).length;
  const sequential = /\bat a time\b/i.test(prompt) && stepsDone < cities.length;
  if (request.tools.length > 0 && choice !== "none" && results.length > 0 && sequential) {
    const toolUse: PlannedToolUse = {
      type: "tool_use",
      id: `toolu_fake_${shortHash(`${idSeed}:tool`)}`,
      name: String(request.tools[0]!.name),
      input: { city: cities[stepsDone]! },
    };
    return { blocks: [toolUse], stopReason: "tool_use", stopSequence: null };
  }
  if (
    request.tools.length > 0 &&
    choice !== "none" &&
    results.length === 0 &&
    (forced || /weather/i.test(text))
  ) {
    const name = choice === "tool" ? String(request.toolChoice!.name) : String(request.tools[0]!.name);
    const city = sequential
      ? cities[0]!
      : (/\bin ([A-Z][A-Za-z -]*?)(?:[?.!,]|$)/.exec(text)?.[1] ?? "Paris");
    const toolUse: PlannedToolUse = {
      type: "tool_use",
      id: `toolu_fake_${shortHash(`${idSeed}:tool`)}`,
      name,
      input: { city },
    };
    // With tool_choice any/tool the API prefills the tool call, so no text precedes it.
    const planned: PlannedBlock[] = forced
      ? [toolUse]
      : [{ type: "text", text: "Let me check the weather." }, toolUse];
    return { blocks: planned, stopReason: "tool_use", stopSequence: null };
  }

  let answer = request.jsonSchema
    ? JSON.stringify(sampleFor(request.jsonSchema, `You said: ${text}`))
    : results.length > 0
      ? `Tool result: ${results.map(toolResultText).join("; ")}`
      : `You said: ${text}`;
  let stopReason: Plan["stopReason"] = "end_turn";
  let stopSequence: string | null = null;
  for (const sequence of request.stopSequences) {
    const at = answer.indexOf(sequence);
    if (sequence !== "" && at !== -1) {
      answer = answer.slice(0, at);
      stopReason = "stop_sequence";
      stopSequence = sequence;
      break;
    }
  }
  if (tokens(answer) > request.maxTokens) {
    answer = answer.slice(0, request.maxTokens * 4);
    stopReason = "max_tokens";
    stopSequence = null;
  }
  return { blocks: answer === "" ? [] : [{ type: "text", text: answer }], stopReason, stopSequence };
}

interface InputUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** Counts input tokens; blocks marked cache_control are cache writes the first time, reads after. */
function inputUsage(body: Json, cache: Set<string> | undefined): InputUsage {
  const total = tokens(JSON.stringify([body.system ?? "", body.tools ?? [], body.messages]));
  const cacheable: Json[] = [];
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (isObject(value)) {
      if (value.cache_control) cacheable.push(value);
      if (Array.isArray(value.content)) collect(value.content);
    }
  };
  collect(body.system);
  collect(body.tools);
  collect(body.messages);
  let written = 0;
  let read = 0;
  for (const block of cacheable) {
    const key = JSON.stringify(block);
    const count = tokens(key);
    if (cache?.has(key)) read += count;
    else {
      cache?.add(key);
      written += count;
    }
  }
  return {
    input_tokens: Math.max(1, total - written - read),
    cache_creation_input_tokens: written,
    cache_read_input_tokens: read,
  };
}

function outputTokens(plan: Plan): number {
  return plan.blocks.reduce((sum, b) => sum + tokens(outputText(b)), 0);
}

function outputText(block: PlannedBlock): string {
  switch (block.type) {
    case "text":
      return block.text;
    case "thinking":
      return block.thinking;
    case "redacted_thinking":
      return block.data;
    case "tool_use":
      return JSON.stringify(block.input);
  }
}

function toContentBlock(block: PlannedBlock): Json {
  return block.type === "tool_use"
    ? { type: "tool_use", id: block.id, name: block.name, input: block.input }
    : { ...block };
}

/** Splits text into word-sized chunks so streams carry several deltas. */
function textChunks(text: string): string[] {
  const parts = text.match(/\S+\s*|\s+/g) ?? [text];
  const chunks: string[] = [];
  for (let i = 0; i < parts.length; i += 2) chunks.push(parts.slice(i, i + 2).join(""));
  return chunks;
}

/** Splits JSON text into at least two fragments, as input_json_delta does. */
function jsonFragments(json: string): string[] {
  const size = Math.max(1, Math.ceil(json.length / 3));
  const fragments: string[] = [];
  for (let i = 0; i < json.length; i += size) fragments.push(json.slice(i, i + size));
  return fragments;
}

const OVERLOADED = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };

function streamAnswer(
  res: ServerResponse,
  message: Json,
  plan: Plan,
  usage: InputUsage,
  midStreamError: boolean,
): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "request-id": `req_fake_${shortHash(String(message.id))}`,
  });
  writeSse(
    res,
    {
      type: "message_start",
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    },
    "message_start",
  );
  if (plan.blocks.length === 0) writeSse(res, { type: "ping" }, "ping");
  for (const [index, block] of plan.blocks.entries()) {
    const start =
      block.type === "text"
        ? { type: "text", text: "" }
        : block.type === "thinking"
          ? { type: "thinking", thinking: "", signature: "" }
          : block.type === "redacted_thinking"
            ? block
            : { type: "tool_use", id: block.id, name: block.name, input: {} };
    writeSse(res, { type: "content_block_start", index, content_block: start }, "content_block_start");
    if (index === 0) writeSse(res, { type: "ping" }, "ping");
    if (block.type === "thinking") {
      for (const chunk of textChunks(block.thinking)) {
        writeSse(
          res,
          { type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: chunk } },
          "content_block_delta",
        );
      }
      writeSse(
        res,
        {
          type: "content_block_delta",
          index,
          delta: { type: "signature_delta", signature: block.signature },
        },
        "content_block_delta",
      );
    } else if (block.type === "redacted_thinking") {
      // Arrives whole in its content_block_start.
    } else if (block.type === "text") {
      for (const chunk of textChunks(block.text)) {
        writeSse(
          res,
          { type: "content_block_delta", index, delta: { type: "text_delta", text: chunk } },
          "content_block_delta",
        );
        if (midStreamError) {
          writeSse(res, OVERLOADED, "error");
          res.end();
          return;
        }
      }
    } else {
      // The API opens every tool input with an empty fragment.
      for (const fragment of ["", ...jsonFragments(JSON.stringify(block.input))]) {
        writeSse(
          res,
          { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: fragment } },
          "content_block_delta",
        );
      }
    }
    writeSse(res, { type: "content_block_stop", index }, "content_block_stop");
  }
  writeSse(
    res,
    {
      type: "message_delta",
      delta: { stop_reason: plan.stopReason, stop_sequence: plan.stopSequence },
      usage: { output_tokens: outputTokens(plan) },
    },
    "message_delta",
  );
  writeSse(res, { type: "message_stop" }, "message_stop");
  res.end();
}

/**
 * Serves one Messages API call (after auth, which differs per platform): validation like the real
 * API, trigger words, then a JSON message or an SSE stream. Reused by the Vertex fake for Claude.
 */
export function handleAnthropicMessages(
  req: RecordedRequest,
  res: ServerResponse,
  options: AnthropicMessagesOptions = {},
): void {
  let request: ValidRequest;
  let text: string;
  try {
    if (req.json === undefined)
      throw invalid(
        "There was an error parsing the body of your request. Please double check it's valid JSON.",
      );
    request = validate(req.json, options);
    text = textOf(lastUserBlocks(request.messages));
    if (text.includes("TRIGGER_CONTEXT_LENGTH"))
      throw invalid("prompt is too long: 208310 tokens > 200000 maximum");
    if (text.includes("TRIGGER_RATE_LIMIT")) {
      throw new ApiError(
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.",
        {
          "retry-after": "7",
          "anthropic-ratelimit-requests-limit": "50",
          "anthropic-ratelimit-requests-remaining": "0",
        },
      );
    }
  } catch (err) {
    if (err instanceof ApiError)
      return sendAnthropicError(res, err.status, err.type, err.message, err.headers);
    throw err;
  }

  const body = req.json as Json;
  const id = `msg_fake_${shortHash(req.body)}`;
  const plan = planAnswer(request, id);
  const usage = inputUsage(body, options.promptCache);
  const message = { id, type: "message", role: "assistant", model: request.model };

  if (!request.stream) {
    sendJson(
      res,
      200,
      {
        ...message,
        content: plan.blocks.map(toContentBlock),
        stop_reason: plan.stopReason,
        stop_sequence: plan.stopSequence,
        usage: { ...usage, output_tokens: outputTokens(plan), service_tier: "standard" },
      },
      { "request-id": `req_fake_${shortHash(id)}` },
    );
    return;
  }
  if (text.includes("TRIGGER_EARLY_STREAM_ERROR")) {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    writeSse(res, OVERLOADED, "error");
    res.end();
    return;
  }
  streamAnswer(res, message, plan, usage, text.includes("TRIGGER_STREAM_ERROR"));
}

function header(req: RecordedRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function listModels(req: RecordedRequest, res: ServerResponse, models: string[]): void {
  const query = new URL(req.url, "http://fake").searchParams;
  const limit = Number(query.get("limit") ?? 20);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    return sendAnthropicError(
      res,
      400,
      "invalid_request_error",
      "limit: Input should be greater than or equal to 1 and less than or equal to 1000",
    );
  }
  const afterId = query.get("after_id");
  const start = afterId ? models.indexOf(afterId) + 1 : 0;
  const page = models.slice(start, start + limit);
  sendJson(res, 200, {
    data: page.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-09-29T00:00:00Z" })),
    has_more: start + limit < models.length,
    first_id: page[0] ?? null,
    last_id: page.at(-1) ?? null,
  });
}

/** What count_tokens accepts: a Messages body without max_tokens, stream, sampling or metadata. */
const COUNT_TOKENS_FIELDS = new Set([
  "model",
  "messages",
  "system",
  "tools",
  "tool_choice",
  "thinking",
  "output_config",
  "cache_control",
]);

/**
 * POST /v1/messages/count_tokens: the API's field, model and message checks, then
 * `{input_tokens}` by the same count as a Messages call's input usage, so the two agree.
 */
function countMessageTokens(req: RecordedRequest, res: ServerResponse, models: string[] | undefined): void {
  const body = req.json;
  const fail = (status: number, type: string, message: string) =>
    sendAnthropicError(res, status, type, message);
  if (!isObject(body)) {
    return fail(
      400,
      "invalid_request_error",
      "There was an error parsing the body of your request. Please double check it's valid JSON.",
    );
  }
  const extra = Object.keys(body).find((key) => !COUNT_TOKENS_FIELDS.has(key));
  if (extra) return fail(400, "invalid_request_error", `${extra}: Extra inputs are not permitted`);
  if (typeof body.model !== "string" || body.model === "")
    return fail(400, "invalid_request_error", "model: Field required");
  if (models && !models.includes(body.model)) return fail(404, "not_found_error", `model: ${body.model}`);
  if (!Array.isArray(body.messages)) return fail(400, "invalid_request_error", "messages: Field required");
  if (body.messages.length === 0)
    return fail(400, "invalid_request_error", "messages: at least one message is required");
  const badRole = body.messages.findIndex(
    (m) => !isObject(m) || (m.role !== "user" && m.role !== "assistant"),
  );
  if (badRole !== -1)
    return fail(
      400,
      "invalid_request_error",
      `messages.${badRole}.role: Input should be 'user' or 'assistant'`,
    );
  const count = tokens(JSON.stringify([body.system ?? "", body.tools ?? [], body.messages]));
  sendJson(res, 200, { input_tokens: count }, { "request-id": `req_fake_${shortHash(req.body)}` });
}

export async function startAnthropicFake(options: AnthropicFakeOptions): Promise<FakeServer> {
  const promptCache = new Set<string>();
  const models = options.models ?? ANTHROPIC_FAKE_MODELS;
  return startFakeServer((req, res) => {
    const path = new URL(req.url, "http://fake").pathname;
    // 2023-06-01 clients send the key as x-api-key; SDKs for 2026-10-21 send it as a bearer token.
    const bearer = /^Bearer (.+)$/i.exec(header(req, "authorization") ?? "")?.[1];
    const key = header(req, "x-api-key") ?? bearer;
    if (!key) return sendAnthropicError(res, 401, "authentication_error", "x-api-key header is required");
    if (key !== options.apiKey)
      return sendAnthropicError(res, 401, "authentication_error", "invalid x-api-key");
    const version = header(req, "anthropic-version");
    if (!version)
      return sendAnthropicError(res, 400, "invalid_request_error", "anthropic-version: header is required");
    if (!API_VERSIONS.includes(version)) {
      return sendAnthropicError(
        res,
        400,
        "invalid_request_error",
        `anthropic-version: ${version} is not a supported API version`,
      );
    }

    if (req.method === "POST" && path === "/v1/messages") {
      return handleAnthropicMessages(req, res, { models: options.models, promptCache, apiVersion: version });
    }
    if (req.method === "POST" && path === "/v1/messages/count_tokens")
      return countMessageTokens(req, res, options.models);
    if (req.method === "GET" && path === "/v1/models") return listModels(req, res, models);
    const modelMatch = /^\/v1\/models\/([^/]+)$/.exec(path);
    if (req.method === "GET" && modelMatch) {
      const id = decodeURIComponent(modelMatch[1]!);
      if (!models.includes(id)) return sendAnthropicError(res, 404, "not_found_error", `model: ${id}`);
      return sendJson(res, 200, { type: "model", id, display_name: id, created_at: "2025-09-29T00:00:00Z" });
    }
    sendAnthropicError(res, 404, "not_found_error", "Not Found");
  });
}
