import type { FinishReason, Usage } from "./chat.js";

/**
 * A legacy text completion (`POST /v1/completions`): prompts continued as they are, with the
 * fields only text-completion upstreams know (echo, logprobs, suffix, several choices).
 */
export interface CompletionRequest {
  /** The upstream model id (already resolved by routing). */
  model: string;
  /** One or more prompts; each gets `n` choices. */
  prompt: string[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  n?: number;
  echo?: boolean;
  /** How many most likely tokens to report per position. */
  logprobs?: number;
  suffix?: string;
  user?: string;
}

export interface CompletionChoice {
  index: number;
  text: string;
  /** The upstream's logprobs object, passed on as it came. */
  logprobs: unknown;
  finishReason: FinishReason;
  rawFinishReason: string;
}

export interface CompletionResponse {
  choices: CompletionChoice[];
  usage?: Usage;
}

export type CompletionStreamEvent =
  | { type: "choice-delta"; index: number; text: string; logprobs?: unknown }
  | { type: "choice-finish"; index: number; finishReason: FinishReason; rawFinishReason: string }
  | { type: "usage"; usage: Usage };
