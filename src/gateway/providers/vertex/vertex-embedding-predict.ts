import { GatewayError } from "../../../shared/errors.js";
import type { VertexEmbeddingPredictResponse } from "./vertex-wire-types.js";

/** Vertex allows 250 texts per `:predict` call, but gemini-embedding models only one. */
export function embeddingBatchSize(model: string): number {
  return model.startsWith("gemini-embedding") ? 1 : 250;
}

export function convertToEmbeddingPredictRequest(
  texts: string[],
  dimensions: number | undefined,
): Record<string, unknown> {
  return {
    instances: texts.map((content) => ({ content })),
    ...(dimensions !== undefined ? { parameters: { outputDimensionality: dimensions } } : {}),
  };
}

export interface EmbeddingPredictResult {
  vectors: number[][];
  /** Undefined when any prediction lacked its token count. */
  tokens?: number;
}

export function mapEmbeddingPredictResponse(
  body: VertexEmbeddingPredictResponse,
  expected: number,
  providerName: string,
): EmbeddingPredictResult {
  const predictions = body.predictions ?? [];
  const vectors = predictions.map((p) => p.embeddings?.values);
  if (vectors.length !== expected || vectors.some((v) => !Array.isArray(v))) {
    throw new GatewayError(
      "upstream_unavailable",
      `${providerName} returned ${vectors.length} embeddings for ${expected} inputs`,
      { provider: providerName },
    );
  }
  let tokens: number | undefined = 0;
  for (const prediction of predictions) {
    const count = prediction.embeddings?.statistics?.token_count;
    tokens = count === undefined || tokens === undefined ? undefined : tokens + count;
  }
  return { vectors: vectors as number[][], tokens };
}
