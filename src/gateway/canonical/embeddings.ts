export interface EmbeddingRequest {
  /** The upstream model id (already resolved by routing). */
  model: string;
  input: string[];
  dimensions?: number;
  user?: string;
}

export interface EmbeddingResponse {
  model: string;
  vectors: number[][];
  usage?: { inputTokens: number; estimated: boolean };
}
