import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  ReasoningEffort,
  ToolCall,
  ToolChoice,
} from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import { convertToGeminiParameters, convertToGeminiSchema } from "./convert-to-gemini-schema.js";
import type { GeminiContent, GeminiPart, GeminiRequest } from "./vertex-wire-types.js";
import { FOREIGN_CALL_SIGNATURE, GEMINI_SIGNATURE_ORIGIN } from "./gemini-tool-call-id.js";

function parseDataUrl(url: string): { mimeType: string; data: string } | undefined {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return match ? { mimeType: match[1]!, data: match[2]! } : undefined;
}

const IMAGE_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
};

function convertUserPart(part: ContentPart): GeminiPart | undefined {
  if (part.type === "text") return part.text === "" ? undefined : { text: part.text };
  if (part.data !== undefined)
    return { inlineData: { mimeType: part.mediaType ?? "image/png", data: part.data } };
  if (!part.url) return undefined;
  const inline = parseDataUrl(part.url);
  if (inline) return { inlineData: inline };
  // fileData needs a MIME type; guess it from the extension when the client gave none.
  const extension = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(part.url)?.[1]?.toLowerCase() ?? "";
  return {
    fileData: { mimeType: part.mediaType ?? IMAGE_TYPES[extension] ?? "image/jpeg", fileUri: part.url },
  };
}

function parseArguments(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** Vertex treats a response without `output`/`error` keys as the whole output; plain text goes under `output`. */
function toolResponse(content: string, isError: boolean | undefined): Record<string, unknown> {
  if (isError) return { error: content };
  try {
    const parsed: unknown = JSON.parse(content);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // not JSON: sent as text below
  }
  return { output: content };
}

function convertToolChoice(choice: ToolChoice): NonNullable<GeminiRequest["toolConfig"]> {
  if (choice === "auto") return { functionCallingConfig: { mode: "AUTO" } };
  if (choice === "none") return { functionCallingConfig: { mode: "NONE" } };
  if (choice === "required") return { functionCallingConfig: { mode: "ANY" } };
  return { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [choice.name] } };
}

/** Gemini wants alternating turns; adjacent turns of one role (e.g. several tool results) become one. */
function pushTurn(contents: GeminiContent[], role: GeminiContent["role"], parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents.at(-1);
  if (last?.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

/**
 * Vertex pairs a turn's function responses with the previous turn's calls by position (its calls
 * carry no ids), while clients may answer parallel calls in any order: results are buffered and
 * sent in the order of their calls.
 */
class PendingResults {
  private calls: ToolCall[] = [];
  private results = new Map<string, GeminiPart>();

  expect(calls: ToolCall[]): void {
    this.calls = calls;
    this.results.clear();
  }

  add(message: Extract<ChatMessage, { role: "tool" }>): void {
    const call = this.calls.find((c) => c.id === message.toolCallId);
    if (call === undefined) {
      throw new GatewayError(
        "invalid_request",
        `tool result for call id "${message.toolCallId}" does not answer a tool call of the assistant message before it`,
        { param: "messages" },
      );
    }
    this.results.set(call.id, {
      functionResponse: { name: call.name, response: toolResponse(message.content, message.isError) },
    });
  }

  /** Moves the buffered results, in call order, into a user turn. */
  flush(contents: GeminiContent[]): void {
    if (this.results.size === 0) return;
    const parts = this.calls.flatMap((call) => {
      const part = this.results.get(call.id);
      return part ? [part] : [];
    });
    this.results.clear();
    pushTurn(contents, "user", parts);
  }
}

/** Thinking budgets (2.5) for an effort level. */
const EFFORT_BUDGET: Record<ReasoningEffort, number> = { minimal: 512, low: 2048, medium: 8192, high: 24576 };

/**
 * Gemini 3 thinks by level, 2.5 by token budget (0 turns it off where the model allows). Thought
 * summaries are asked for whenever the client asked for reasoning, so it gets to see them.
 */
function geminiThinkingConfig(
  request: ChatRequest,
): NonNullable<GeminiRequest["generationConfig"]>["thinkingConfig"] {
  const reasoning = request.reasoning;
  if (!reasoning) return undefined;
  if (!reasoning.enabled) return { thinkingBudget: 0 };
  if (reasoning.budgetTokens !== undefined)
    return { includeThoughts: true, thinkingBudget: reasoning.budgetTokens };
  if (reasoning.effort === undefined) return { includeThoughts: true };
  if (request.model.startsWith("gemini-3"))
    return {
      includeThoughts: true,
      thinkingLevel: reasoning.effort === "medium" || reasoning.effort === "high" ? "HIGH" : "LOW",
    };
  return { includeThoughts: true, thinkingBudget: EFFORT_BUDGET[reasoning.effort] };
}

export function convertToGeminiRequest(request: ChatRequest): GeminiRequest {
  const system: Array<{ text: string }> = [];
  const contents: GeminiContent[] = [];
  const pending = new PendingResults();

  for (const message of request.messages) {
    if (message.role !== "tool") pending.flush(contents);
    switch (message.role) {
      case "system":
        if (message.content !== "") system.push({ text: message.content });
        break;
      case "user":
        pushTurn(
          contents,
          "user",
          message.content.map(convertUserPart).filter((p): p is GeminiPart => p !== undefined),
        );
        break;
      case "assistant": {
        const parts: GeminiPart[] = message.content === "" ? [] : [{ text: message.content }];
        message.toolCalls.forEach((call, i) => {
          const signature =
            call.signature?.origin === GEMINI_SIGNATURE_ORIGIN
              ? call.signature.value
              : // Gemini signs the first call of a step; a step it did not make gets the stand-in.
                i === 0
                ? FOREIGN_CALL_SIGNATURE
                : undefined;
          parts.push({
            functionCall: { name: call.name, args: parseArguments(call.arguments) },
            ...(signature ? { thoughtSignature: signature } : {}),
          });
        });
        pending.expect(message.toolCalls);
        pushTurn(contents, "model", parts);
        break;
      }
      case "tool":
        pending.add(message);
        break;
    }
  }
  pending.flush(contents);

  const body: GeminiRequest = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  if (request.tools?.length) {
    body.tools = [
      {
        functionDeclarations: request.tools.map((tool) => {
          const parameters = convertToGeminiParameters(tool.parameters);
          return {
            name: tool.name,
            ...(tool.description !== undefined ? { description: tool.description } : {}),
            ...(parameters ? { parameters } : {}),
          };
        }),
      },
    ];
    if (request.toolChoice !== undefined) body.toolConfig = convertToolChoice(request.toolChoice);
  }

  const config: NonNullable<GeminiRequest["generationConfig"]> = {};
  if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens;
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.topP !== undefined) config.topP = request.topP;
  if (request.stop?.length) config.stopSequences = request.stop;
  const format = request.responseFormat;
  if (format && format.type !== "text") {
    config.responseMimeType = "application/json";
    if (format.type === "json_schema") config.responseSchema = convertToGeminiSchema(format.schema);
  }
  const thinking = geminiThinkingConfig(request);
  if (thinking) config.thinkingConfig = thinking;
  if (Object.keys(config).length > 0) body.generationConfig = config;
  return body;
}
