import type { ChatMessage, ChatRequest, ChatResponse, ChatStreamEvent, Usage } from "../canonical/chat.js";

/**
 * Token estimates for when an upstream reports no usage. Roughly 4 characters per token for
 * English text across the BPE tokenizers in use; results are flagged `estimated` so nobody
 * mistakes them for measurements.
 */
const CHARS_PER_TOKEN = 4;
const PER_MESSAGE_OVERHEAD = 4;

export function estimateTextTokens(text: string): number {
  return estimateTokensFromChars(text.length);
}

export function estimateTokensFromChars(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

function messageText(message: ChatMessage): string {
  switch (message.role) {
    case "user":
      return message.content.map((p) => (p.type === "text" ? p.text : "")).join("");
    case "assistant":
      return message.content + message.toolCalls.map((c) => c.name + c.arguments).join("");
    default:
      return message.content;
  }
}

export function estimatePromptTokens(request: Pick<ChatRequest, "messages" | "tools">): number {
  let tokens = 0;
  for (const message of request.messages)
    tokens += estimateTextTokens(messageText(message)) + PER_MESSAGE_OVERHEAD;
  if (request.tools?.length) tokens += estimateTextTokens(JSON.stringify(request.tools));
  return tokens;
}

export function withEstimatedUsage(response: ChatResponse, request: ChatRequest): ChatResponse {
  if (response.usage) return response;
  const output = response.content + response.toolCalls.map((c) => c.name + c.arguments).join("");
  return {
    ...response,
    usage: {
      inputTokens: estimatePromptTokens(request),
      outputTokens: estimateTextTokens(output),
      estimated: true,
    },
  };
}

/**
 * Passes events through and guarantees exactly one usage event at the end (estimated if absent).
 * A stream that ends early (upstream error, client gone, cut by a limit) still reports, through
 * onUsage, an estimate of what flowed, so it is accounted for.
 */
export async function* ensureStreamUsage(
  events: AsyncIterable<ChatStreamEvent>,
  request: ChatRequest,
  onUsage?: (usage: Usage) => void,
): AsyncGenerator<ChatStreamEvent> {
  let usage: Usage | undefined;
  let outputChars = 0;
  let completed = false;
  const estimate = (): Usage => ({
    inputTokens: estimatePromptTokens(request),
    outputTokens: estimateTokensFromChars(outputChars),
    estimated: true,
  });
  try {
    for await (const event of events) {
      if (event.type === "usage") {
        usage = event.usage;
        continue;
      }
      if (event.type === "text-delta") outputChars += event.text.length;
      else if (event.type === "tool-call-delta") outputChars += event.argumentsDelta.length;
      else if (event.type === "tool-call-start") outputChars += event.name.length;
      yield event;
    }
    completed = true;
  } finally {
    if (!completed) onUsage?.(usage ?? estimate());
  }
  const final: Usage = usage ?? estimate();
  onUsage?.(final);
  yield { type: "usage", usage: final };
}
