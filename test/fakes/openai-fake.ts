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
 * OpenAI's chat/completions, legacy completions, embeddings and models API (and the vLLM and
 * Ollama dialects of it),
 * built from the public API reference. Deterministic behaviour shared by all fakes:
 * - answers "You said: <last user text>", streamed word by word; a reply to a tool result is
 *   "The tool returned: <content>"; `response_format: json_object` answers `{"reply": "..."}`;
 * - with tools and "weather" in the last user message: a call to the weather tool (or the first
 *   tool) with `{"city": "<word after 'in'>"}`, arguments streamed in two fragments;
 * - TRIGGER_CONTEXT_LENGTH → 400 context_length_exceeded, TRIGGER_RATE_LIMIT → 429
 *   rate_limit_exceeded with retry-after, TRIGGER_CONTENT_FILTER → finish_reason content_filter,
 *   TRIGGER_STREAM_ERROR → an error event inside the 200 stream;
 * - reasoning models (o-series, gpt-5) think before they answer, by `reasoning_effort` (default
 *   medium): the thinking is never shown, only counted in `completion_tokens` and
 *   `completion_tokens_details.reasoning_tokens` (without eating into `max_completion_tokens`,
 *   unlike the real ones); other models refuse `reasoning_effort`, as OpenAI does;
 * - embeddings: unit vectors seeded by sha256 of the text, honouring `dimensions`; an input with
 *   TRIGGER_CONTEXT_LENGTH → 400 for the whole request, as OpenAI refuses an over-long input.
 *
 * Flavors: "openai" (Bearer key required, `usage: null` on every chunk with include_usage, the
 * masked-key 401); "vllm" (optional key with vLLM's `{"error": "Unauthorized"}`, bare top-level
 * error objects, usage in its own chunk after the finish chunk, `[DONE]` even after an error);
 * "ollama" (no auth, role on every delta, each tool call whole in one delta, never usage in streams).
 */

export type OpenAiFakeFlavor = "openai" | "vllm" | "ollama";
export type StreamStyle = OpenAiFakeFlavor | "azure";

export const TRIGGER_CONTEXT_LENGTH = "TRIGGER_CONTEXT_LENGTH";
export const TRIGGER_RATE_LIMIT = "TRIGGER_RATE_LIMIT";
export const TRIGGER_CONTENT_FILTER = "TRIGGER_CONTENT_FILTER";
export const TRIGGER_STREAM_ERROR = "TRIGGER_STREAM_ERROR";

interface WireToolCall {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

interface WireMessage {
  role?: string;
  content?: unknown;
  tool_calls?: WireToolCall[];
  tool_call_id?: string;
}

export interface WireChatRequest {
  model?: string;
  messages?: WireMessage[];
  tools?: Array<{ type?: string; function?: { name?: string } }>;
  tool_choice?: unknown;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number;
  max_completion_tokens?: number;
  response_format?: { type?: string };
  reasoning_effort?: string;
}

export interface WireCompletionRequest extends Omit<WireChatRequest, "messages"> {
  prompt?: string | string[];
  n?: number;
  echo?: boolean;
  logprobs?: number | null;
  suffix?: string | null;
  stop?: string | string[];
}

export interface WireEmbeddingRequest {
  model?: string;
  input?: unknown;
  encoding_format?: string;
  dimensions?: number;
}

export interface WireError {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A chat answer, before rendering into a completion or stream chunks. */
export type ChatPlan =
  | {
      kind: "text";
      chunks: string[];
      finishReason: "stop" | "length" | "content_filter";
      promptTokens: number;
      /** Visible and reasoning tokens together, as OpenAI counts them. */
      completionTokens: number;
      reasoningTokens: number;
    }
  | {
      kind: "tool";
      id: string;
      name: string;
      argumentFragments: string[];
      promptTokens: number;
      completionTokens: number;
      reasoningTokens: number;
    };

export const REASONING_MODEL = /^(o\d|gpt-5)/;
const EFFORTS = ["minimal", "low", "medium", "high"];
/** What the fake's reasoning models think, per effort, in tokens. */
const REASONING_TOKENS: Record<string, number> = { minimal: 0, low: 64, medium: 192, high: 512 };

/** OpenAI's refusal of a reasoning_effort the model cannot take, if it is one. */
export function reasoningEffortError(
  body: WireChatRequest,
  model: string,
): { message: string; code: string } | undefined {
  const effort = body.reasoning_effort;
  if (effort === undefined) return undefined;
  if (!REASONING_MODEL.test(model))
    return {
      message: "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
      code: "unsupported_parameter",
    };
  if (!EFFORTS.includes(effort))
    return {
      message: `Invalid value: '${effort}'. Supported values are: 'minimal', 'low', 'medium', and 'high'.`,
      code: "invalid_value",
    };
  return undefined;
}

export function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part: { type?: string; text?: string }) =>
      part?.type === "text" && typeof part.text === "string" ? part.text : "",
    )
    .join("");
}

export function lastUserText(messages: WireMessage[]): string {
  const last = [...messages].reverse().find((m) => m.role === "user");
  return last ? messageText(last.content) : "";
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function wordChunks(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [text];
}

/** OpenAI's ordering rules for tool calls and tool results in history; the error text is OpenAI's. */
export function toolHistoryError(messages: WireMessage[]): { message: string; param: string } | undefined {
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    if (message.role === "tool") {
      let j = i - 1;
      while (j >= 0 && messages[j]!.role === "tool") j--;
      const owner = messages[j];
      if (
        !owner ||
        owner.role !== "assistant" ||
        !owner.tool_calls?.some((c) => c.id === message.tool_call_id)
      ) {
        return {
          message:
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          param: `messages.[${i}].role`,
        };
      }
    }
    if (message.role === "assistant" && message.tool_calls?.length) {
      const answered = new Set<string>();
      for (let j = i + 1; j < messages.length && messages[j]!.role === "tool"; j++)
        answered.add(messages[j]!.tool_call_id ?? "");
      const missing = message.tool_calls.map((c) => c.id ?? "").filter((id) => !answered.has(id));
      if (missing.length > 0) {
        return {
          message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${missing.join(", ")}`,
          param: "messages",
        };
      }
    }
  }
  return undefined;
}

/** Decides the deterministic answer to a validated chat request to `model`. */
export function planChat(
  body: WireChatRequest,
  nextId: (prefix: string) => string,
  model = body.model ?? "",
): ChatPlan {
  const reasoningTokens = REASONING_MODEL.test(model)
    ? REASONING_TOKENS[body.reasoning_effort ?? "medium"]!
    : 0;
  const plan = planVisibleChat(body, nextId);
  return { ...plan, completionTokens: plan.completionTokens + reasoningTokens, reasoningTokens };
}

function planVisibleChat(body: WireChatRequest, nextId: (prefix: string) => string): ChatPlan {
  const messages = body.messages ?? [];
  const promptTokens = messages.reduce((sum, m) => sum + 4 + estimateTokens(messageText(m.content)), 3);
  const userText = lastUserText(messages);
  const last = messages[messages.length - 1];
  const forced = (body.tool_choice as { function?: { name?: string } } | undefined)?.function?.name;
  if (
    last?.role === "user" &&
    body.tools?.length &&
    body.tool_choice !== "none" &&
    (/weather/i.test(userText) || forced)
  ) {
    const name =
      forced ??
      body.tools.find((t) => /weather/i.test(t.function?.name ?? ""))?.function?.name ??
      body.tools[0]!.function?.name ??
      "tool";
    const city = /\bin ([A-Z][\w-]*)/.exec(userText)?.[1] ?? "Paris";
    const argumentFragments = ['{"city":', ` "${city}"}`];
    return {
      kind: "tool",
      id: nextId("call_"),
      name,
      argumentFragments,
      promptTokens,
      completionTokens: 12,
      reasoningTokens: 0,
    };
  }
  let reply =
    last?.role === "tool" ? `The tool returned: ${messageText(last.content)}` : `You said: ${userText}`;
  if (body.response_format?.type === "json_object" || body.response_format?.type === "json_schema") {
    reply = JSON.stringify({ reply });
  }
  let chunks = wordChunks(reply);
  let finishReason: "stop" | "length" | "content_filter" = "stop";
  const limit = body.max_completion_tokens ?? body.max_tokens;
  if (/TRIGGER_CONTENT_FILTER|TRIGGER_COMPLETION_FILTER/.test(userText)) {
    chunks = chunks.slice(0, 2);
    finishReason = "content_filter";
  } else if (limit !== undefined && limit < chunks.length) {
    chunks = chunks.slice(0, limit);
    finishReason = "length";
  }
  return {
    kind: "text",
    chunks,
    finishReason,
    promptTokens,
    completionTokens: chunks.length,
    reasoningTokens: 0,
  };
}

export function usageOf(plan: ChatPlan, style: StreamStyle): Record<string, unknown> {
  const base = {
    prompt_tokens: plan.promptTokens,
    completion_tokens: plan.completionTokens,
    total_tokens: plan.promptTokens + plan.completionTokens,
  };
  if (style === "openai" || style === "azure") {
    return {
      ...base,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: plan.reasoningTokens,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
  }
  return style === "vllm" ? { ...base, prompt_tokens_details: null } : base;
}

interface RenderContext {
  id: string;
  model: string;
  created: number;
  style: StreamStyle;
  /** Azure's content_filter_results: on the choice, on each content chunk... */
  choiceExtras?: Record<string, unknown>;
  /** ...and on the finish chunk. */
  finishExtras?: Record<string, unknown>;
  /** Azure's prompt_filter_results, system_fingerprint... */
  topExtras?: Record<string, unknown>;
}

/** A non-streamed chat.completion. */
export function renderCompletion(plan: ChatPlan, ctx: RenderContext): Record<string, unknown> {
  const message: Record<string, unknown> =
    plan.kind === "tool"
      ? {
          role: "assistant",
          content: ctx.style === "ollama" ? "" : null,
          tool_calls: [
            {
              id: plan.id,
              type: "function",
              function: { name: plan.name, arguments: plan.argumentFragments.join("") },
            },
          ],
        }
      : { role: "assistant", content: plan.chunks.join("") };
  if (ctx.style === "openai" || ctx.style === "azure")
    Object.assign(message, { refusal: null, annotations: [] });
  if (ctx.style === "vllm")
    Object.assign(message, { reasoning_content: null, tool_calls: message.tool_calls ?? [] });
  const finishReason = plan.kind === "tool" ? "tool_calls" : plan.finishReason;
  return {
    id: ctx.id,
    object: "chat.completion",
    created: ctx.created,
    model: ctx.model,
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: finishReason,
        ...(ctx.style === "vllm" ? { stop_reason: null } : {}),
        ...ctx.choiceExtras,
      },
    ],
    usage: usageOf(plan, ctx.style),
    ...(ctx.style === "ollama" ? { system_fingerprint: "fp_ollama" } : {}),
    ...(ctx.style === "openai" ? { service_tier: "default", system_fingerprint: "fp_fake" } : {}),
    ...ctx.topExtras,
  };
}

/** The data objects of a chat.completion.chunk stream (without `[DONE]`), as each upstream frames them. */
export function renderStreamChunks(
  plan: ChatPlan,
  ctx: RenderContext,
  includeUsage: boolean,
): Array<Record<string, unknown>> {
  const { style } = ctx;
  const withUsageNull = includeUsage && (style === "openai" || style === "azure");
  const chunk = (
    delta: Record<string, unknown>,
    finishReason: string | null,
    extra: Record<string, unknown> = {},
  ) => ({
    id: ctx.id,
    object: "chat.completion.chunk",
    created: ctx.created,
    model: ctx.model,
    ...(style === "openai" ? { service_tier: "default", system_fingerprint: "fp_fake" } : {}),
    ...(style === "ollama" ? { system_fingerprint: "fp_ollama" } : {}),
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason, ...extra }],
    ...(withUsageNull ? { usage: null } : {}),
  });
  const choiceExtras = ctx.choiceExtras ?? {};
  const out: Array<Record<string, unknown>> = [];
  const finishExtra = ctx.finishExtras ?? (style === "vllm" ? { stop_reason: null } : {});

  if (plan.kind === "tool") {
    if (style === "ollama") {
      const call = {
        id: plan.id,
        index: 0,
        type: "function",
        function: { name: plan.name, arguments: plan.argumentFragments.join("") },
      };
      out.push(chunk({ role: "assistant", content: "", tool_calls: [call] }, null));
      out.push(chunk({ role: "assistant", content: "" }, "tool_calls"));
    } else {
      const first = { index: 0, id: plan.id, type: "function", function: { name: plan.name, arguments: "" } };
      out.push(
        chunk(
          {
            role: "assistant",
            content: null,
            tool_calls: [first],
            ...(style === "vllm" ? {} : { refusal: null }),
          },
          null,
        ),
      );
      for (const fragment of plan.argumentFragments)
        out.push(chunk({ tool_calls: [{ index: 0, function: { arguments: fragment } }] }, null));
      out.push(chunk({}, "tool_calls", finishExtra));
    }
  } else if (style === "ollama") {
    for (const text of plan.chunks) out.push(chunk({ role: "assistant", content: text }, null));
    out.push(chunk({ role: "assistant", content: "" }, plan.finishReason));
  } else {
    out.push(chunk({ role: "assistant", content: "", ...(style === "vllm" ? {} : { refusal: null }) }, null));
    for (const text of plan.chunks) out.push(chunk({ content: text }, null, choiceExtras));
    out.push(chunk(style === "vllm" ? { content: "" } : {}, plan.finishReason, finishExtra));
  }
  if (includeUsage && style !== "ollama") {
    out.push({
      id: ctx.id,
      object: "chat.completion.chunk",
      created: ctx.created,
      model: ctx.model,
      ...(style === "openai" ? { service_tier: "default", system_fingerprint: "fp_fake" } : {}),
      choices: [],
      usage: usageOf(plan, style),
    });
  }
  return out;
}

/** A unit vector derived from the text, rounded to float32 so float and base64 encodings agree. */
export function embeddingFor(text: string, dimensions: number): number[] {
  const seed = createHash("sha256").update(text).digest();
  let state = seed.readUInt32LE(0) || 1;
  const raw: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    raw.push(((state >>> 0) / 0xffffffff) * 2 - 1);
  }
  const norm = Math.sqrt(raw.reduce((sum, v) => sum + v * v, 0)) || 1;
  return raw.map((v) => Math.fround(v / norm));
}

export function encodeFloat32Base64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString("base64");
}

const DEFAULT_DIMENSIONS: Record<string, number> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
  "nomic-embed-text": 768,
};

/** An embeddings response body, or the input error OpenAI answers with. */
export function renderEmbeddings(
  body: WireEmbeddingRequest,
  model: string,
): { ok: Record<string, unknown> } | { invalid: { message: string; param: string } } {
  const inputs = typeof body.input === "string" ? [body.input] : body.input;
  if (
    !Array.isArray(inputs) ||
    inputs.length === 0 ||
    !inputs.every((i) => typeof i === "string" && i.length > 0)
  ) {
    return {
      invalid: {
        message:
          "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        param: "input",
      },
    };
  }
  if ((inputs as string[]).some((text) => text.includes(TRIGGER_CONTEXT_LENGTH))) {
    return {
      invalid: {
        message:
          "This model's maximum context length is 8192 tokens, however you requested 9000 tokens " +
          "(9000 in your prompt; 0 for the completion). Please reduce your prompt; or completion length.",
        param: "input",
      },
    };
  }
  if (body.dimensions !== undefined && /ada-002/.test(model)) {
    return {
      invalid: { message: "This model does not support specifying dimensions.", param: "dimensions" },
    };
  }
  const dimensions = body.dimensions ?? DEFAULT_DIMENSIONS[model] ?? 1536;
  const base64 = body.encoding_format === "base64";
  const tokens = (inputs as string[]).reduce((sum, text) => sum + estimateTokens(text), 0);
  return {
    ok: {
      object: "list",
      data: (inputs as string[]).map((text, index) => {
        const vector = embeddingFor(text, dimensions);
        return { object: "embedding", index, embedding: base64 ? encodeFloat32Base64(vector) : vector };
      }),
      model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
}

export function startSse(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    ...headers,
  });
}

// ---------------------------------------------------------------------------------------------

export interface OpenAiFakeOptions {
  /** Required Bearer key (openai always checks it; vllm only when set; ollama never). */
  apiKey?: string;
  flavor?: OpenAiFakeFlavor;
  /** Known models; when set, other models answer 404 like the real server. */
  models?: string[];
}

export interface OpenAiFake extends FakeServer {
  /** Base URL including `/v1`, as the SDK's baseURL. */
  baseUrl: string;
}

function maskKey(key: string): string {
  return key.length <= 10
    ? "*".repeat(key.length)
    : `${key.slice(0, 6)}${"*".repeat(Math.max(3, key.length - 10))}${key.slice(-4)}`;
}

export async function startOpenAiFake(options: OpenAiFakeOptions = {}): Promise<OpenAiFake> {
  const flavor = options.flavor ?? "openai";
  const apiKey = flavor === "ollama" ? undefined : options.apiKey;
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}fake${String(++counter).padStart(6, "0")}`;

  /** An error body in this flavor's shape. */
  function error(
    status: number,
    message: string,
    type: string,
    param: string | null,
    code: string | null,
    headers?: Record<string, string>,
  ): WireError {
    if (flavor === "vllm")
      return { status, body: { object: "error", message, type, param, code: status }, headers };
    return { status, body: { error: { message, type, param, code } }, headers };
  }

  function authError(req: RecordedRequest): WireError | undefined {
    if (flavor === "ollama" || (flavor === "vllm" && !apiKey)) return undefined;
    const header = String(req.headers.authorization ?? "");
    const presented = /^Bearer (.+)$/i.exec(header)?.[1];
    if (presented === apiKey) return undefined;
    if (flavor === "vllm") return { status: 401, body: { error: "Unauthorized" } };
    if (!presented) {
      return error(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        null,
        null,
      );
    }
    return error(
      401,
      `Incorrect API key provided: ${maskKey(presented)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      "invalid_request_error",
      null,
      "invalid_api_key",
    );
  }

  function modelError(model: string | undefined): WireError | undefined {
    if (!model) return error(400, "you must provide a model parameter", "invalid_request_error", null, null);
    if (!options.models || options.models.includes(model)) return undefined;
    if (flavor === "vllm")
      return error(404, `The model \`${model}\` does not exist.`, "NotFoundError", null, null);
    if (flavor === "ollama")
      return error(404, `model "${model}" not found, try pulling it first`, "api_error", null, null);
    return error(
      404,
      `The model \`${model}\` does not exist or you do not have access to it.`,
      "invalid_request_error",
      null,
      "model_not_found",
    );
  }

  function chatError(body: WireChatRequest): WireError | undefined {
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return error(400, "[] is too short - 'messages'", "invalid_request_error", "messages", null);
    }
    if (body.stream_options && !body.stream) {
      return error(
        400,
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        "invalid_request_error",
        "stream_options",
        null,
      );
    }
    if (flavor === "openai" && body.max_tokens !== undefined && REASONING_MODEL.test(body.model ?? "")) {
      return error(
        400,
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        "invalid_request_error",
        "max_tokens",
        "unsupported_parameter",
      );
    }
    const effort = flavor === "openai" ? reasoningEffortError(body, body.model ?? "") : undefined;
    if (effort) return error(400, effort.message, "invalid_request_error", "reasoning_effort", effort.code);
    const history = toolHistoryError(body.messages);
    if (history) return error(400, history.message, "invalid_request_error", history.param, null);
    const allText = body.messages.map((m) => messageText(m.content)).join("\n");
    if (body.response_format?.type === "json_object" && !/json/i.test(allText)) {
      return error(
        400,
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        "invalid_request_error",
        "messages",
        null,
      );
    }
    const userText = lastUserText(body.messages);
    if (userText.includes(TRIGGER_CONTEXT_LENGTH)) {
      if (flavor === "vllm") {
        return error(
          400,
          "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.",
          "BadRequestError",
          null,
          null,
        );
      }
      if (flavor === "ollama")
        return error(400, "the input length exceeds the context length", "invalid_request_error", null, null);
      return error(
        400,
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
        "invalid_request_error",
        "messages",
        "context_length_exceeded",
      );
    }
    if (userText.includes(TRIGGER_RATE_LIMIT)) {
      // vLLM and Ollama have no rate limits of their own; the proxy usually in front answers like OpenAI.
      return {
        status: 429,
        body: {
          error: {
            message: `Rate limit reached for ${body.model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
            type: "requests",
            param: null,
            code: "rate_limit_exceeded",
          },
        },
        headers: {
          "retry-after": "20",
          "x-ratelimit-limit-requests": "3",
          "x-ratelimit-remaining-requests": "0",
          "x-ratelimit-reset-requests": "20s",
        },
      };
    }
    return undefined;
  }

  function streamError(): Record<string, unknown> {
    if (flavor === "vllm") {
      return {
        error: {
          object: "error",
          message: "The engine encountered an internal error while generating.",
          type: "InternalServerError",
          param: null,
          code: 500,
        },
      };
    }
    return {
      error: {
        message: "The server had an error while processing your request. Sorry about that!",
        type: "server_error",
        param: null,
        code: null,
      },
    };
  }

  async function chat(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const body = (req.json ?? {}) as WireChatRequest;
    const problem = modelError(body.model) ?? chatError(body);
    if (problem) return sendJson(res, problem.status, problem.body, problem.headers);
    const plan = planChat(body, nextId);
    const ctx: RenderContext = {
      id: nextId("chatcmpl-"),
      model: body.model!,
      created: Math.floor(Date.now() / 1000),
      style: flavor,
    };
    if (!body.stream) return sendJson(res, 200, renderCompletion(plan, ctx));

    startSse(res);
    const chunks = renderStreamChunks(
      plan,
      ctx,
      flavor !== "ollama" && body.stream_options?.include_usage === true,
    );
    if (lastUserText(body.messages ?? []).includes(TRIGGER_STREAM_ERROR)) {
      for (const chunk of chunks.slice(0, 2)) writeSse(res, chunk);
      writeSse(res, streamError());
      if (flavor === "vllm") writeSse(res, "[DONE]");
      return void res.end();
    }
    for (const chunk of chunks) {
      writeSse(res, chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    writeSse(res, "[DONE]");
    res.end();
  }

  /**
   * Legacy text completions: each prompt continued with "You said: <prompt>", n choices per
   * prompt (index prompt × n + choice), `echo` puts the prompt first, `stop` cuts at a stop
   * string, `logprobs` reports one entry per word, `max_tokens` counts words. vLLM refuses
   * `suffix`, as it does.
   */
  async function completions(req: RecordedRequest, res: ServerResponse): Promise<void> {
    const body = (req.json ?? {}) as WireCompletionRequest;
    const prompts = typeof body.prompt === "string" ? [body.prompt] : (body.prompt ?? []);
    const problem =
      modelError(body.model) ??
      (prompts.length === 0
        ? error(400, "prompt is required", "invalid_request_error", "prompt", null)
        : undefined) ??
      (flavor === "vllm" && body.suffix != null
        ? error(400, "suffix is not currently supported", "BadRequestError", null, null)
        : undefined) ??
      chatError({ ...body, messages: prompts.map((p) => ({ role: "user", content: p })) });
    if (problem) return sendJson(res, problem.status, problem.body, problem.headers);
    const n = body.n ?? 1;
    const choices = prompts.flatMap((prompt, p) =>
      Array.from({ length: n }, (_, j) => {
        let words = wordChunks(`You said: ${prompt}`);
        let finish = "stop";
        const limit = body.max_tokens ?? 16;
        const stop = (typeof body.stop === "string" ? [body.stop] : (body.stop ?? [])).find((s) =>
          words.join("").includes(s),
        );
        if (stop) words = wordChunks(words.join("").slice(0, words.join("").indexOf(stop)));
        else if (limit < words.length) {
          words = words.slice(0, limit);
          finish = "length";
        }
        if (body.echo) words = [prompt, ...words];
        return { index: p * n + j, words, finish, promptTokens: estimateTokens(prompt) };
      }),
    );
    const logprobsOf = (words: string[]) =>
      body.logprobs == null
        ? null
        : {
            tokens: words,
            token_logprobs: words.map(() => -0.25),
            top_logprobs: words.map((w) => ({ [w]: -0.25 })),
            text_offset: words.map((_, i) => words.slice(0, i).join("").length),
          };
    const promptTokens = prompts.reduce((sum, p) => sum + estimateTokens(p), 0);
    const completionTokens = choices.reduce((sum, c) => sum + c.words.length, 0);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const base = {
      id: nextId("cmpl-"),
      object: "text_completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
    };
    if (!body.stream) {
      return sendJson(res, 200, {
        ...base,
        choices: choices.map((c) => ({
          text: c.words.join(""),
          index: c.index,
          logprobs: logprobsOf(c.words),
          finish_reason: c.finish,
        })),
        usage,
      });
    }
    startSse(res);
    const broken = prompts.some((p) => p.includes(TRIGGER_STREAM_ERROR));
    for (const c of choices) {
      for (const [i, word] of c.words.entries()) {
        if (broken && i === 2) {
          writeSse(res, streamError());
          return void res.end();
        }
        writeSse(res, {
          ...base,
          choices: [{ text: word, index: c.index, logprobs: logprobsOf([word]), finish_reason: null }],
        });
        await new Promise((resolve) => setImmediate(resolve));
      }
      writeSse(res, {
        ...base,
        choices: [{ text: "", index: c.index, logprobs: null, finish_reason: c.finish }],
      });
    }
    if (flavor !== "ollama" && body.stream_options?.include_usage)
      writeSse(res, { ...base, choices: [], usage });
    writeSse(res, "[DONE]");
    res.end();
  }

  function embeddings(req: RecordedRequest, res: ServerResponse): void {
    const body = (req.json ?? {}) as WireEmbeddingRequest;
    const problem = modelError(body.model);
    if (problem) return sendJson(res, problem.status, problem.body, problem.headers);
    const result = renderEmbeddings(body, body.model!);
    if ("invalid" in result) {
      const e = error(400, result.invalid.message, "invalid_request_error", result.invalid.param, null);
      return sendJson(res, e.status, e.body);
    }
    sendJson(res, 200, result.ok);
  }

  function models(res: ServerResponse): void {
    const ids = options.models ?? ["gpt-4o-mini", "text-embedding-3-small"];
    const ownedBy = flavor === "vllm" ? "vllm" : flavor === "ollama" ? "library" : "system";
    sendJson(res, 200, {
      object: "list",
      data: ids.map((id) => ({
        id,
        object: "model",
        created: 1_715_367_049,
        owned_by: ownedBy,
        ...(flavor === "vllm" ? { root: id, parent: null, max_model_len: 4096 } : {}),
      })),
    });
  }

  const server = await startFakeServer(async (req, res) => {
    const path = req.url.split("?")[0];
    const route = `${req.method} ${path}`;
    const known = [
      "POST /v1/chat/completions",
      "POST /v1/completions",
      "POST /v1/embeddings",
      "GET /v1/models",
    ];
    if (!known.includes(route)) {
      if (flavor === "ollama")
        return void res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found");
      const e = error(404, `Invalid URL (${req.method} ${path})`, "invalid_request_error", null, null);
      return sendJson(res, e.status, e.body);
    }
    const denied = authError(req);
    if (denied) return sendJson(res, denied.status, denied.body, denied.headers);
    if (route === "POST /v1/chat/completions") return chat(req, res);
    if (route === "POST /v1/completions") return completions(req, res);
    if (route === "POST /v1/embeddings") return embeddings(req, res);
    return models(res);
  });
  return { ...server, baseUrl: `${server.url}/v1` };
}
