import type { ChatRequest } from "../canonical/chat.js";
import { estimatePromptTokens, estimateTextTokens } from "../usage/estimate-tokens.js";

/** A chat request before routing has picked the upstream model. */
type ChatRequestBody = Pick<ChatRequest, "messages" | "tools" | "maxTokens">;

/** What a request asks of a target, estimated once per request before routing. */
export interface RequestNeeds {
  kind: "chat" | "embedding";
  /** Estimated tokens one upstream call must fit in the context window (for embeddings: the longest input). */
  contextTokens: number;
  /** Estimated input tokens billed: the whole prompt, or every embedding input. */
  inputTokens: number;
  /** max_tokens the client asked for, if any. */
  maxOutputTokens?: number;
  /** Tools offered, or tool calls/results in the history: the model must support tools. */
  tools: boolean;
  /** Embedding dimensions the client asked for, if any. */
  dimensions?: number;
}

function usesTools(request: ChatRequestBody): boolean {
  if (request.tools?.length) return true;
  return request.messages.some(
    (m) => m.role === "tool" || (m.role === "assistant" && m.toolCalls.length > 0),
  );
}

export function chatNeeds(request: ChatRequestBody): RequestNeeds {
  const prompt = estimatePromptTokens(request);
  return {
    kind: "chat",
    contextTokens: prompt,
    inputTokens: prompt,
    maxOutputTokens: request.maxTokens,
    tools: usesTools(request),
  };
}

export function embeddingNeeds(input: readonly string[], dimensions: number | undefined): RequestNeeds {
  let longest = 0;
  let total = 0;
  for (const text of input) {
    const tokens = estimateTextTokens(text);
    total += tokens;
    if (tokens > longest) longest = tokens;
  }
  return { kind: "embedding", contextTokens: longest, inputTokens: total, tools: false, dimensions };
}
