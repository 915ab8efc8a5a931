import { createHash, createHmac } from "node:crypto";
import type { ServerResponse } from "node:http";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { SignatureV4 } from "@smithy/signature-v4";
import type { Checksum, MessageHeaders, SourceData } from "@smithy/types";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { thinkingSignatureOf } from "./anthropic-fake.js";
import { sendJson, startFakeServer, type FakeServer, type RecordedRequest } from "./fake-http-server.js";

/**
 * Amazon Bedrock Runtime upstream fake, built from the Converse, ConverseStream and InvokeModel
 * API references: restJson1 paths (`/model/{modelId}/converse`...), SigV4 verified for real
 * (the signature is recomputed over the received request), Bedrock API keys as bearer tokens,
 * errors with `x-amzn-errortype` and `{"message"}` bodies, and ConverseStream answers framed as
 * AWS event-stream messages with real CRCs.
 *
 * Deterministic behaviour: answers "You said: <last user text>"; a tool call when the request
 * has tools and the last user text mentions "weather"; trigger words in the last user text:
 * TRIGGER_RATE_LIMIT, TRIGGER_CONTEXT_LENGTH, TRIGGER_CONTENT_FILTER, TRIGGER_STREAM_ERROR,
 * TRIGGER_EARLY_STREAM_ERROR, TRIGGER_CORRUPT_FRAME (a stream frame with a bad CRC). Model ids
 * containing "nonexistent" are invalid identifiers; ids containing "retired" are not found.
 * Like Converse, a history holding toolUse or toolResult blocks needs a toolConfig with tools
 * (400 ValidationException), even when the request only wants a text answer.
 *
 * Claude models (ids containing `anthropic.claude`) think when `additionalModelRequestFields`
 * holds Claude's `thinking` parameter: answers start with a signed `reasoningContent` block (plus
 * redacted reasoning on TRIGGER_REDACTED_THINKING), streamed as reasoningContent text and
 * signature deltas. As on Bedrock, which hands Claude's checks through as ValidationExceptions:
 * reasoning in history must carry its signature and be unchanged (the signature verifies on any
 * Claude platform), a tool loop with thinking on must pass every assistant turn back starting
 * with its reasoning, the budget must be at least 1024 and below maxTokens, and thinking refuses
 * a temperature other than 1 and forced tool use. Other families refuse the `thinking` field.
 * "weather in Paris and London ... at a time" calls the tool once per city, each after the
 * previous result.
 */

export interface BedrockFakeOptions {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry it as x-amz-security-token (temporary credentials). */
  sessionToken?: string;
  region: string;
  /** A Bedrock API key accepted as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /**
   * Temporary credentials issued elsewhere (STS, the EKS Pod Identity agent), looked up by access
   * key id; they need their session token and are rejected once expired.
   */
  temporaryCredentials?: (
    accessKeyId: string,
  ) => { secretAccessKey: string; sessionToken: string; expiration: Date } | undefined;
}

const SERVICE = "bedrock";
const CORAL_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/";
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const TITAN_V2_DIMENSIONS = [256, 512, 1024];
const PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** SHA-256 / HMAC-SHA256 over node:crypto in the shape SignatureV4 expects. */
class NodeSha256 implements Checksum {
  private hash;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }
  private create() {
    return this.secret === undefined
      ? createHash("sha256")
      : createHmac(
          "sha256",
          typeof this.secret === "string" ? this.secret : Buffer.from(this.secret as Uint8Array),
        );
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.create();
  }
}

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
    readonly coral = true,
  ) {
    super(message);
  }
}

function sendAwsError(res: ServerResponse, err: AwsError): void {
  sendJson(
    res,
    err.status,
    { message: err.message },
    {
      "x-amzn-errortype": err.coral ? `${err.errorType}${CORAL_SUFFIX}` : err.errorType,
      "x-amzn-requestid": "00000000-0000-4000-8000-000000000000",
    },
  );
}

function header(req: RecordedRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

async function verifySigV4(req: RecordedRequest, options: BedrockFakeOptions): Promise<void> {
  const authorization = header(req, "authorization");
  if (!authorization)
    throw new AwsError(403, "MissingAuthenticationTokenException", "Missing Authentication Token", false);
  if (authorization.startsWith("Bearer ")) {
    if (options.apiKey === undefined || authorization.slice("Bearer ".length) !== options.apiKey) {
      throw new AwsError(
        403,
        "AccessDeniedException",
        "Authentication failed: Please make sure your API Key is valid.",
        false,
      );
    }
    return;
  }
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!m)
    throw new AwsError(
      403,
      "IncompleteSignatureException",
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
      false,
    );
  const [, accessKeyId, shortDate, region, service, signedHeaderList, signature] = m as unknown as string[];
  const temporary =
    accessKeyId === options.accessKeyId ? undefined : options.temporaryCredentials?.(accessKeyId!);
  if (accessKeyId !== options.accessKeyId && !temporary) {
    throw new AwsError(
      403,
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
      false,
    );
  }
  if (temporary && temporary.expiration.getTime() <= Date.now()) {
    throw new AwsError(
      403,
      "ExpiredTokenException",
      "The security token included in the request is expired",
      false,
    );
  }
  const credentials = temporary ?? {
    secretAccessKey: options.secretAccessKey,
    sessionToken: options.sessionToken,
  };
  if (
    credentials.sessionToken !== undefined &&
    header(req, "x-amz-security-token") !== credentials.sessionToken
  ) {
    throw new AwsError(
      403,
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
      false,
    );
  }
  if (region !== options.region || service !== SERVICE) {
    throw new AwsError(
      403,
      "InvalidSignatureException",
      `Credential should be scoped to a valid region, not '${region}'. `,
      false,
    );
  }
  const signingDate = parseAmzDate(header(req, "x-amz-date") ?? "");
  if (!signingDate || !signingDate.toISOString().replace(/-/g, "").startsWith(shortDate!)) {
    throw new AwsError(
      403,
      "IncompleteSignatureException",
      "Date must be in ISO-8601 'basic format'.",
      false,
    );
  }
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw new AwsError(
      403,
      "InvalidSignatureException",
      "Signature expired: the request is older than 5 minutes.",
      false,
    );
  }
  const contentSha = header(req, "x-amz-content-sha256");
  if (contentSha !== undefined && contentSha !== createHash("sha256").update(req.body).digest("hex")) {
    throw new AwsError(403, "InvalidSignatureException", SIGNATURE_MISMATCH, false);
  }
  const signedHeaders = signedHeaderList!.split(";");
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) headers[name] = header(req, name) ?? "";
  const [path, query = ""] = req.url.split("?", 2) as [string, string?];
  const hostHeader = header(req, "host") ?? "";
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: accessKeyId!,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken !== undefined ? { sessionToken: credentials.sessionToken } : {}),
    },
    region: options.region,
    service: SERVICE,
    sha256: NodeSha256,
  });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: "http:",
      hostname: hostHeader.split(":")[0]!,
      path,
      query: Object.fromEntries(new URLSearchParams(query)),
      headers,
      body: req.body,
    },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
  const expectedHeaders = /SignedHeaders=([^,]+)/.exec(String(signed.headers.authorization))?.[1];
  if (expected !== signature || expectedHeaders !== signedHeaderList) {
    throw new AwsError(403, "InvalidSignatureException", SIGNATURE_MISMATCH, false);
  }
}

// ---- Converse wire shapes (JSON, blobs as base64) --------------------------------------------

interface WireReasoning {
  reasoningText?: { text?: string; signature?: string };
  /** A blob: base64 in Converse JSON. */
  redactedContent?: string;
}
interface WireContentBlock {
  text?: string;
  reasoningContent?: WireReasoning;
  image?: { format?: string; source?: { bytes?: string } };
  toolUse?: { toolUseId?: string; name?: string; input?: unknown };
  toolResult?: { toolUseId?: string; content?: Array<{ text?: string; json?: unknown }>; status?: string };
}
interface WireMessage {
  role?: string;
  content?: WireContentBlock[];
}
interface WireConverseRequest {
  messages?: WireMessage[];
  system?: Array<{ text?: string }>;
  inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  toolConfig?: {
    tools?: Array<{ toolSpec?: { name?: string; description?: string; inputSchema?: { json?: unknown } } }>;
    toolChoice?: { auto?: object; any?: object; tool?: { name?: string } };
  };
  additionalModelRequestFields?: Record<string, unknown>;
}

interface Answer {
  reasoning?: { text: string; signature: string; redacted?: string };
  text: string;
  toolUse?: { toolUseId: string; name: string; input: { city: string } };
  stopReason: string;
  inputTokens: number;
  outputTokens: number;
}

function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function validationError(message: string): AwsError {
  return new AwsError(400, "ValidationException", message);
}

const REDACTED_MARK = "FAKE-REDACTED:";
const CLAUDE_EXTRA_FIELDS = ["thinking", "anthropic_beta", "top_k"];

function isClaude(modelId: string): boolean {
  return modelId.includes("anthropic.claude");
}

/** Claude's own messages, as Bedrock passes them through. */
function claudeError(message: string): AwsError {
  return validationError(`The model returned the following errors: ${message}`);
}

/** The thinking parameter as Claude checks it; true when the model is to think. */
function validateThinking(body: WireConverseRequest, modelId: string): boolean {
  const extra = body.additionalModelRequestFields ?? {};
  const allowed = isClaude(modelId) ? CLAUDE_EXTRA_FIELDS : [];
  for (const key of Object.keys(extra)) {
    if (!allowed.includes(key))
      throw validationError(
        `Malformed input request: #: extraneous key [${key}] is not permitted, please reformat your input and try again.`,
      );
  }
  const thinking = extra.thinking as { type?: string; budget_tokens?: unknown } | undefined;
  if (thinking === undefined || thinking.type === "disabled") return false;
  if (thinking.type !== "enabled" && thinking.type !== "adaptive")
    throw claudeError(
      "thinking: Input tag does not match any of the expected tags: 'enabled', 'adaptive', 'disabled'",
    );
  if (thinking.type === "enabled") {
    const budget = thinking.budget_tokens;
    if (!Number.isInteger(budget)) throw claudeError("thinking.enabled.budget_tokens: Field required");
    if ((budget as number) < 1024)
      throw claudeError("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024");
    const maxTokens = body.inferenceConfig?.maxTokens;
    if (maxTokens === undefined || maxTokens <= (budget as number))
      throw claudeError("`max_tokens` must be greater than `thinking.budget_tokens`.");
    const choice = body.toolConfig?.toolChoice;
    if (choice?.any || choice?.tool)
      throw claudeError("Thinking may not be enabled when tool_choice forces tool use.");
  }
  const temperature = body.inferenceConfig?.temperature;
  if (temperature !== undefined && temperature !== 1)
    throw claudeError(
      "`temperature` may only be set to 1 when thinking is enabled or in interleaved thinking mode.",
    );
  return true;
}

/** Reasoning in history: only in assistant turns, and for Claude signed and unchanged. */
function validateReasoningBlock(reasoning: WireReasoning, path: string, role: string, modelId: string): void {
  if (role !== "assistant")
    throw validationError(`${path}: reasoningContent is only allowed in assistant messages.`);
  if (!isClaude(modelId)) return;
  if (reasoning.redactedContent !== undefined) {
    if (!Buffer.from(reasoning.redactedContent, "base64").toString("utf8").startsWith(REDACTED_MARK))
      throw claudeError(`${path}: Invalid \`data\` in \`redacted_thinking\` block`);
    return;
  }
  const { text, signature } = reasoning.reasoningText ?? {};
  if (typeof text !== "string")
    throw validationError(`${path}.reasoningContent.reasoningText.text: Field required`);
  if (typeof signature !== "string" || signature === "")
    throw claudeError(`${path}.thinking.signature: Field required`);
  if (signature !== thinkingSignatureOf(text))
    throw claudeError(`${path}: Invalid \`signature\` in \`thinking\` block`);
}

/** Where the current turn began: the last user message that is not only tool results. */
function currentTurnStart(messages: WireMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === "user" && !(message.content ?? []).some((b) => b.toolResult)) return i;
  }
  return 0;
}

/**
 * With thinking on, a tool loop is one assistant turn: each of its assistant messages must come
 * back starting with the reasoning it began with.
 */
function validateThinkingToolLoop(messages: WireMessage[]): void {
  if (!(messages.at(-1)!.content ?? []).some((b) => b.toolResult)) return;
  messages.forEach((message, i) => {
    if (i < currentTurnStart(messages) || message.role !== "assistant") return;
    const first = message.content?.[0];
    if (first && !first.reasoningContent) {
      const found = first.toolUse ? "tool_use" : "text";
      throw claudeError(
        `messages.${i}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${found}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`.`,
      );
    }
  });
}

/** The checks Bedrock applies to a Converse body that the adapter must get right. */
function validateConverse(body: WireConverseRequest, modelId: string): boolean {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw validationError(
      "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
    );
  }
  if (messages[0]!.role !== "user") {
    throw validationError(
      "A conversation must start with a user message. Try again with a conversation that starts with a user message.",
    );
  }
  let usesTools = false;
  messages.forEach((message, i) => {
    if (message.role !== "user" && message.role !== "assistant") {
      throw validationError(
        `1 validation error detected: Value '${String(message.role)}' at 'messages.${i + 1}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]`,
      );
    }
    if (i > 0 && messages[i - 1]!.role === message.role) {
      throw validationError(
        "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
      );
    }
    if (!Array.isArray(message.content) || message.content.length === 0) {
      throw validationError(
        `The content field in the Message object at messages.${i} is empty. Add a ContentBlock object to the content field and try again.`,
      );
    }
    message.content.forEach((block, j) => {
      if (block.text !== undefined && block.text.trim() === "") {
        throw validationError(
          `The text field in the ContentBlock object at messages.${i}.content.${j} is blank. Add text to the text field, and try again.`,
        );
      }
      if (block.image) {
        const format = block.image.format ?? "";
        if (!["png", "jpeg", "gif", "webp"].includes(format) || !block.image.source?.bytes) {
          throw validationError(
            `The image at messages.${i}.content.${j} is not valid: format must be one of png, jpeg, gif, webp with base64 bytes.`,
          );
        }
      }
      if (block.reasoningContent)
        validateReasoningBlock(block.reasoningContent, `messages.${i}.content.${j}`, message.role!, modelId);
      if (block.toolUse || block.toolResult) usesTools = true;
    });
    const results = message.content.filter((b) => b.toolResult).map((b) => b.toolResult!.toolUseId);
    if (results.length > 0) {
      const previous = messages[i - 1];
      const uses = (previous?.content ?? []).filter((b) => b.toolUse).map((b) => b.toolUse!.toolUseId);
      const missing = uses.filter((id) => !results.includes(id));
      if (missing.length > 0) {
        throw validationError(
          `Expected toolResult blocks at messages.${i}.content for the following Ids: ${missing.join(", ")}`,
        );
      }
      if (results.some((id) => !uses.includes(id))) {
        throw validationError(
          `The number of toolResult blocks at messages.${i}.content exceeds the number of toolUse blocks of previous turn.`,
        );
      }
    }
  });
  if (usesTools && !body.toolConfig?.tools?.length) {
    throw validationError(
      "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
    );
  }
  const maxTokens = body.inferenceConfig?.maxTokens;
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw validationError(
      "1 validation error detected: Value at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
  }
  const thinking = validateThinking(body, modelId);
  if (thinking) validateThinkingToolLoop(messages);
  return thinking;
}

function lastUserText(messages: WireMessage[]): string {
  const last = messages[messages.length - 1];
  return (last?.content ?? [])
    .map((b) => b.text ?? "")
    .filter(Boolean)
    .join(" ");
}

function allText(body: WireConverseRequest): string {
  const parts = (body.system ?? []).map((s) => s.text ?? "");
  for (const message of body.messages ?? []) {
    for (const block of message.content ?? []) {
      if (block.text) parts.push(block.text);
      for (const item of block.toolResult?.content ?? [])
        parts.push(item.text ?? JSON.stringify(item.json ?? ""));
      if (block.toolUse) parts.push(JSON.stringify(block.toolUse.input ?? {}));
    }
  }
  return parts.join(" ");
}

/** Thinking first when it is on: readable and signed, plus redacted reasoning when asked for. */
function withReasoning(a: Answer, userText: string, thinking: boolean): Answer {
  if (!thinking || a.stopReason === "guardrail_intervened") return a;
  const text = `Thinking about: ${userText || "the tool results"}`;
  const redacted = userText.includes("TRIGGER_REDACTED_THINKING")
    ? Buffer.from(
        `${REDACTED_MARK}${createHash("sha256").update(userText).digest("hex").slice(0, 12)}`,
      ).toString("base64")
    : undefined;
  return {
    ...a,
    reasoning: { text, signature: thinkingSignatureOf(text), ...(redacted ? { redacted } : {}) },
    outputTokens: a.outputTokens + countTokens(text),
  };
}

function answer(body: WireConverseRequest, nextToolUseId: () => string, thinking: boolean): Answer {
  return withReasoning(visibleAnswer(body, nextToolUseId), lastUserText(body.messages!), thinking);
}

function visibleAnswer(body: WireConverseRequest, nextToolUseId: () => string): Answer {
  const messages = body.messages!;
  const userText = lastUserText(messages);
  const inputTokens = Math.max(1, countTokens(allText(body)));
  if (userText.includes("TRIGGER_CONTENT_FILTER")) {
    const text = "Sorry, the model cannot answer this question.";
    return { text, stopReason: "guardrail_intervened", inputTokens, outputTokens: 0 };
  }
  const tools = (body.toolConfig?.tools ?? []).map((t) => t.toolSpec?.name).filter((n): n is string => !!n);
  const lastIsToolResult =
    userText === "" && (messages[messages.length - 1]!.content ?? []).some((b) => b.toolResult);
  const start = currentTurnStart(messages);
  const prompt = lastUserText(messages.slice(0, start + 1));
  const cities = /\bin ([A-Z][A-Za-z -]*?)(?:[?.!,]|$)/.exec(prompt)?.[1]?.split(" and ") ?? [];
  const stepsDone = messages.slice(start + 1).filter((m) => (m.content ?? []).some((b) => b.toolUse)).length;
  const nextStep = /\bat a time\b/i.test(prompt) && stepsDone < cities.length;
  if (tools.length > 0 && lastIsToolResult && nextStep) {
    const name = tools.find((n) => /weather/i.test(n)) ?? tools[0]!;
    return {
      text: "",
      toolUse: { toolUseId: nextToolUseId(), name, input: { city: cities[stepsDone]! } },
      stopReason: "tool_use",
      inputTokens,
      outputTokens: 6,
    };
  }
  if (tools.length > 0 && !lastIsToolResult && /weather/i.test(userText)) {
    const city = nextStep
      ? cities[0]!
      : (/weather (?:in|for|at) ([A-Z][\w-]*(?: [A-Z][\w-]*)*)/.exec(userText)?.[1] ?? "Paris");
    const name = tools.find((n) => /weather/i.test(n)) ?? tools[0]!;
    const text = "Let me check the weather.";
    return {
      text,
      toolUse: { toolUseId: nextToolUseId(), name, input: { city } },
      stopReason: "tool_use",
      inputTokens,
      outputTokens: countTokens(text) + 6,
    };
  }
  let text = lastIsToolResult
    ? `Tool result: ${(messages[messages.length - 1]!.content ?? [])
        .flatMap((b) => b.toolResult?.content ?? [])
        .map((c) => c.text ?? "")
        .join(" ")}`
    : `You said: ${userText}`;
  let stopReason = "end_turn";
  for (const stop of body.inferenceConfig?.stopSequences ?? []) {
    const at = text.indexOf(stop);
    if (stop && at >= 0) {
      text = text.slice(0, at);
      stopReason = "stop_sequence";
    }
  }
  const maxTokens = body.inferenceConfig?.maxTokens;
  const words = text.split(" ");
  if (maxTokens !== undefined && words.length > maxTokens) {
    text = words.slice(0, maxTokens).join(" ");
    stopReason = "max_tokens";
  }
  return { text, stopReason, inputTokens, outputTokens: countTokens(text) };
}

function usageOf(a: Answer): Record<string, number> {
  return {
    inputTokens: a.inputTokens,
    outputTokens: a.outputTokens,
    totalTokens: a.inputTokens + a.outputTokens,
  };
}

// ---- event-stream framing -------------------------------------------------------------------

export function encodeEventFrame(eventType: string, payload: Record<string, unknown>): Uint8Array {
  const headers: MessageHeaders = {
    ":event-type": { type: "string", value: eventType },
    ":content-type": { type: "string", value: "application/json" },
    ":message-type": { type: "string", value: "event" },
  };
  // Bedrock pads every event with a "p" field so payload sizes do not leak token lengths.
  const body = { ...payload, p: PADDING.slice(0, 1 + ((eventType.length * 7) % PADDING.length)) };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(body)) });
}

export function encodeExceptionFrame(exceptionType: string, payload: Record<string, unknown>): Uint8Array {
  const headers: MessageHeaders = {
    ":exception-type": { type: "string", value: exceptionType },
    ":content-type": { type: "string", value: "application/json" },
    ":message-type": { type: "string", value: "exception" },
  };
  return codec.encode({ headers, body: fromUtf8(JSON.stringify(payload)) });
}

function splitInTwo(text: string): string[] {
  const at = Math.max(1, Math.floor(text.length / 2));
  return [text.slice(0, at), text.slice(at)];
}

/** Text as a few deltas split on word boundaries, like a model streaming tokens. */
function textChunks(text: string): string[] {
  const words = text.split(/(?<= )/);
  if (words.length === 1) return splitInTwo(text).filter(Boolean);
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += 2) chunks.push(words.slice(i, i + 2).join(""));
  return chunks;
}

function streamFrames(a: Answer, userText: string): Uint8Array[] {
  const frames: Uint8Array[] = [];
  if (userText.includes("TRIGGER_EARLY_STREAM_ERROR")) {
    frames.push(
      encodeExceptionFrame("serviceUnavailableException", {
        message: "Bedrock is unable to process your request.",
      }),
    );
    return frames;
  }
  frames.push(encodeEventFrame("messageStart", { role: "assistant" }));
  if (userText.includes("TRIGGER_CORRUPT_FRAME")) {
    const corrupt = encodeEventFrame("contentBlockDelta", {
      contentBlockIndex: 0,
      delta: { text: "You said" },
    });
    corrupt[corrupt.length - 1]! ^= 0xff;
    frames.push(corrupt);
    return frames;
  }
  let index = 0;
  if (a.reasoning) {
    // Reasoning blocks have no start event: text deltas, then the signature, then the stop.
    for (const chunk of textChunks(a.reasoning.text))
      frames.push(
        encodeEventFrame("contentBlockDelta", {
          contentBlockIndex: index,
          delta: { reasoningContent: { text: chunk } },
        }),
      );
    frames.push(
      encodeEventFrame("contentBlockDelta", {
        contentBlockIndex: index,
        delta: { reasoningContent: { signature: a.reasoning.signature } },
      }),
    );
    frames.push(encodeEventFrame("contentBlockStop", { contentBlockIndex: index++ }));
    if (a.reasoning.redacted) {
      frames.push(
        encodeEventFrame("contentBlockDelta", {
          contentBlockIndex: index,
          delta: { reasoningContent: { redactedContent: a.reasoning.redacted } },
        }),
      );
      frames.push(encodeEventFrame("contentBlockStop", { contentBlockIndex: index++ }));
    }
  }
  const chunks = textChunks(a.text);
  if (userText.includes("TRIGGER_STREAM_ERROR")) {
    frames.push(
      encodeEventFrame("contentBlockDelta", { contentBlockIndex: index, delta: { text: chunks[0] } }),
    );
    frames.push(
      encodeExceptionFrame("modelStreamErrorException", {
        message: "Model stream error: the model failed while generating the response.",
        originalStatusCode: 500,
        originalMessage: "Internal model error",
      }),
    );
    return frames;
  }
  if (chunks.length > 0) {
    for (const chunk of chunks)
      frames.push(
        encodeEventFrame("contentBlockDelta", { contentBlockIndex: index, delta: { text: chunk } }),
      );
    frames.push(encodeEventFrame("contentBlockStop", { contentBlockIndex: index++ }));
  }
  if (a.toolUse) {
    const { toolUseId, name, input } = a.toolUse;
    frames.push(
      encodeEventFrame("contentBlockStart", {
        contentBlockIndex: index,
        start: { toolUse: { toolUseId, name } },
      }),
    );
    for (const fragment of splitInTwo(JSON.stringify(input))) {
      frames.push(
        encodeEventFrame("contentBlockDelta", {
          contentBlockIndex: index,
          delta: { toolUse: { input: fragment } },
        }),
      );
    }
    frames.push(encodeEventFrame("contentBlockStop", { contentBlockIndex: index }));
  }
  frames.push(encodeEventFrame("messageStop", { stopReason: a.stopReason }));
  frames.push(encodeEventFrame("metadata", { usage: usageOf(a), metrics: { latencyMs: 42 } }));
  return frames;
}

// ---- embeddings -----------------------------------------------------------------------------

/** Deterministic unit-length vector seeded by the text's hash. */
function embedText(text: string, dimensions: number, normalize: boolean): number[] {
  let seed = createHash("sha256").update(text).digest().readUInt32BE(0);
  const vector: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    vector.push(seed / 0xffffffff - 0.5);
  }
  if (!normalize) return vector;
  const norm = Math.sqrt(vector.reduce((s, v) => s + v * v, 0));
  return vector.map((v) => v / norm);
}

function titanEmbedding(modelId: string, body: Record<string, unknown>): Record<string, unknown> {
  const inputText = body.inputText;
  if (typeof inputText !== "string" || inputText.length === 0) {
    throw validationError(
      "Malformed input request: #: required key [inputText] not found, please reformat your input and try again.",
    );
  }
  if (inputText.includes("TRIGGER_RATE_LIMIT"))
    throw new AwsError(429, "ThrottlingException", "Too many requests, please wait before trying again.");
  if (inputText.includes("TRIGGER_CONTEXT_LENGTH")) {
    throw validationError(
      "400 Bad Request: Too many input tokens. Max input tokens: 8192, request input token count: 9000 ",
    );
  }
  const v2 = modelId.includes("titan-embed-text-v2");
  let dimensions = v2 ? 1024 : 1536;
  if (body.dimensions !== undefined) {
    if (!v2)
      throw validationError(
        "Malformed input request: extraneous key [dimensions] is not permitted, please reformat your input and try again.",
      );
    if (!TITAN_V2_DIMENSIONS.includes(body.dimensions as number)) {
      throw validationError(
        `Malformed input request: #/dimensions: ${String(body.dimensions)} is not a valid enum value, please reformat your input and try again.`,
      );
    }
    dimensions = body.dimensions as number;
  }
  const normalize = v2 ? body.normalize !== false : false;
  const embedding = embedText(inputText, dimensions, normalize);
  return {
    embedding,
    embeddingsByType: { float: embedding },
    inputTextTokenCount: Math.max(1, countTokens(inputText)),
  };
}

// ---- server ---------------------------------------------------------------------------------

export async function startBedrockFake(options: BedrockFakeOptions): Promise<FakeServer> {
  let toolUseCounter = 0;
  const nextToolUseId = () => `tooluse_fake${String(++toolUseCounter).padStart(4, "0")}`;

  return startFakeServer(async (req, res) => {
    // The SDK corrects its signing clock from this header; Node's own would ignore faked timers.
    res.setHeader("date", new Date().toUTCString());
    try {
      const [path] = req.url.split("?", 1) as [string];
      const route = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec(path);
      if (req.method !== "POST" || !route) {
        throw new AwsError(404, "UnknownOperationException", "Unknown operation", false);
      }
      await verifySigV4(req, options);
      const modelId = decodeURIComponent(route[1]!);
      const operation = route[2]!;
      if (modelId.includes("nonexistent")) throw validationError("The provided model identifier is invalid.");
      if (modelId.includes("retired")) {
        throw new AwsError(
          404,
          "ResourceNotFoundException",
          "This model version has reached the end of its life. Please refer to the AWS documentation for more details.",
        );
      }
      if (req.json === undefined || typeof req.json !== "object" || req.json === null) {
        throw new AwsError(400, "SerializationException", "Unexpected end of JSON input");
      }

      if (operation === "invoke") {
        if (!modelId.includes("titan-embed"))
          throw validationError("Malformed input request, please reformat your input and try again.");
        return void sendJson(res, 200, titanEmbedding(modelId, req.json as Record<string, unknown>), {
          "x-amzn-bedrock-input-token-count": "0",
        });
      }

      const body = req.json as WireConverseRequest;
      const thinking = validateConverse(body, modelId);
      const userText = lastUserText(body.messages!);
      if (userText.includes("TRIGGER_RATE_LIMIT")) {
        throw new AwsError(429, "ThrottlingException", "Too many requests, please wait before trying again.");
      }
      if (userText.includes("TRIGGER_CONTEXT_LENGTH"))
        throw validationError("Input is too long for requested model.");
      const a = answer(body, nextToolUseId, thinking);

      if (operation === "converse") {
        const content: WireContentBlock[] = [];
        if (a.reasoning) {
          const { text, signature, redacted } = a.reasoning;
          content.push({ reasoningContent: { reasoningText: { text, signature } } });
          if (redacted) content.push({ reasoningContent: { redactedContent: redacted } });
        }
        if (a.text) content.push({ text: a.text });
        if (a.toolUse) content.push({ toolUse: a.toolUse });
        return void sendJson(res, 200, {
          output: { message: { role: "assistant", content } },
          stopReason: a.stopReason,
          usage: usageOf(a),
          metrics: { latencyMs: 42 },
        });
      }

      res.writeHead(200, {
        "content-type": "application/vnd.amazon.eventstream",
        "x-amzn-requestid": "00000000-0000-4000-8000-000000000001",
      });
      for (const frame of streamFrames(a, userText)) {
        res.write(frame);
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    } catch (err) {
      if (err instanceof AwsError) return sendAwsError(res, err);
      throw err;
    }
  });
}
