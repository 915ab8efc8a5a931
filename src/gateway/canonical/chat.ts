/**
 * The gateway's one canonical model of a chat exchange. Every ingress format (OpenAI, Anthropic)
 * decodes into it and every provider adapter maps to and from it exactly once.
 */

export type TextPart = { type: "text"; text: string };
export type ImagePart = { type: "image"; url?: string; mediaType?: string; data?: string };
export type ContentPart = TextPart | ImagePart;

/**
 * Opaque reasoning state an upstream attached to its output and needs back verbatim in history
 * (Gemini's thoughtSignature, Claude's thinking signature). Only the upstream family named by
 * `origin` ever receives it again: any other would reject it.
 */
export interface ReasoningSignature {
  origin: string;
  value: string;
}

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments, exactly as the model produced it. */
  arguments: string;
  signature?: ReasoningSignature;
}

/**
 * What a model thought before it answered: readable text (a summary on some models) with the
 * signature that vouches for it, or reasoning the upstream only hands out encrypted.
 */
export type ReasoningPart =
  | { type: "thinking"; text: string; signature?: ReasoningSignature }
  | { type: "redacted"; data: ReasoningSignature };

export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: ContentPart[] }
  | {
      role: "assistant";
      content: string;
      toolCalls: ToolCall[];
      /** Comes before the turn's text and tool calls, as every upstream orders it. */
      reasoning?: ReasoningPart[];
    }
  | { role: "tool"; toolCallId: string; content: string; isError?: boolean };

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export type ToolChoice = "auto" | "none" | "required" | { name: string };

export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; name: string; schema: Record<string, unknown>; strict?: boolean };

export type ReasoningEffort = "minimal" | "low" | "medium" | "high";

/**
 * Whether and how hard the model thinks. Neither budget nor effort: on, the model decides how
 * much (Anthropic's adaptive thinking).
 */
export interface ReasoningRequest {
  enabled: boolean;
  budgetTokens?: number;
  effort?: ReasoningEffort;
}

export interface ChatRequest {
  /** The upstream model id (already resolved by routing). */
  model: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  responseFormat?: ResponseFormat;
  reasoning?: ReasoningRequest;
  /** Opaque end-user id some upstreams accept for abuse monitoring. */
  user?: string;
}

/** The OpenAI finish-reason set every upstream reason is mapped into. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** Of outputTokens, how many were thinking, where the upstream says. */
  reasoningTokens?: number;
  /** True when the upstream did not report usage and the gateway estimated it. */
  estimated: boolean;
}

export interface ChatResponse {
  id: string;
  model: string;
  content: string;
  toolCalls: ToolCall[];
  reasoning?: ReasoningPart[];
  finishReason: FinishReason;
  /** The upstream's own finish/stop reason, kept for clients that need it. */
  rawFinishReason: string;
  usage?: Usage;
}

/** Stream events in the order an adapter yields them. */
export type ChatStreamEvent =
  | { type: "text-delta"; text: string }
  /** Thinking text; a part runs until its signature, or until other content begins. */
  | { type: "reasoning-delta"; text: string }
  /** Ends the current thinking part (or stands alone for thinking whose text is withheld). */
  | { type: "reasoning-signature"; signature: ReasoningSignature }
  | { type: "reasoning-redacted"; data: ReasoningSignature }
  | { type: "tool-call-start"; index: number; id: string; name: string; signature?: ReasoningSignature }
  | { type: "tool-call-delta"; index: number; argumentsDelta: string }
  | { type: "finish"; finishReason: FinishReason; rawFinishReason: string }
  | { type: "usage"; usage: Usage };
