/** The parts of OpenAI's chat/embeddings wire format the adapters read. */

export interface OpenAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

export interface OpenAiToolCall {
  index?: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

/** An error object as OpenAI, Azure (with `innererror`), vLLM and Ollama send it. */
export interface OpenAiErrorPayload {
  message?: string;
  type?: string | null;
  param?: string | null;
  code?: string | number | null;
  /** Azure: details such as `{ code: "ResponsibleAIPolicyViolation", content_filter_result }`. */
  innererror?: { code?: string } | null;
}

export interface OpenAiChatCompletion {
  id: string;
  model: string;
  choices: Array<{
    index: number;
    message: { role: string; content: string | null; tool_calls?: OpenAiToolCall[]; refusal?: string | null };
    finish_reason: string | null;
  }>;
  usage?: OpenAiUsage | null;
}

export interface OpenAiChatChunk {
  id?: string;
  model?: string;
  choices?: Array<{
    index: number;
    delta?: {
      role?: string;
      content?: string | null;
      tool_calls?: OpenAiToolCall[];
      refusal?: string | null;
    };
    finish_reason?: string | null;
  }>;
  usage?: OpenAiUsage | null;
  error?: OpenAiErrorPayload;
}

export interface OpenAiEmbeddingResponse {
  data: Array<{ index: number; embedding: number[] | string }>;
  model: string;
  usage?: { prompt_tokens?: number; total_tokens?: number };
}

/**
 * Error bodies: `{error: {...}}` (OpenAI, Azure, newer vLLM), `{error: "text"}` (vLLM's auth
 * middleware) or a bare top-level error object (`{object: "error", message, type, code}`, older vLLM).
 */
export interface OpenAiErrorBody extends OpenAiErrorPayload {
  error?: OpenAiErrorPayload | string;
  object?: string;
}
