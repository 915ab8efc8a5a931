/** The parts of OpenAI's chat/embeddings wire format the adapters read. */

export interface OpenAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

export interface OpenAiToolCall {
  index?: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
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
    delta?: { role?: string; content?: string | null; tool_calls?: OpenAiToolCall[]; refusal?: string | null };
    finish_reason?: string | null;
  }>;
  usage?: OpenAiUsage | null;
  error?: { message?: string; type?: string; code?: string | null };
}

export interface OpenAiEmbeddingResponse {
  data: Array<{ index: number; embedding: number[] | string }>;
  model: string;
  usage?: { prompt_tokens?: number; total_tokens?: number };
}

export interface OpenAiErrorBody {
  error?: { message?: string; type?: string; param?: string | null; code?: string | number | null } | string;
  message?: string;
}
