import { GatewayError } from "../../../shared/errors.js";

/**
 * Amazon Titan Text Embeddings over InvokeModel: one input string per call. v2 takes
 * `dimensions` (256, 512 or 1024) and `normalize`; v1 has a fixed 1536-dimension output.
 */

export interface TitanEmbeddingResult {
  vector: number[];
  inputTokens?: number;
}

export function titanEmbeddingBody(
  model: string,
  inputText: string,
  dimensions: number | undefined,
): Record<string, unknown> {
  if (/titan-embed-text-v2/.test(model)) {
    return { inputText, ...(dimensions !== undefined ? { dimensions } : {}), normalize: true };
  }
  if (/titan-embed-(text-v1|g1-text)/.test(model)) {
    if (dimensions !== undefined && dimensions !== 1536) {
      throw new GatewayError(
        "invalid_request",
        `${model} always returns 1536 dimensions; use amazon.titan-embed-text-v2:0 for ${dimensions}`,
        {
          param: "dimensions",
        },
      );
    }
    return { inputText };
  }
  throw new GatewayError(
    "invalid_request",
    `embedding model ${model} is not supported by the bedrock adapter; use an Amazon Titan Text Embeddings model (amazon.titan-embed-text-v2:0)`,
    { param: "model" },
  );
}

export function parseTitanEmbedding(text: string, providerName: string): TitanEmbeddingResult {
  let body: { embedding?: unknown; inputTextTokenCount?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new GatewayError(
      "upstream_unavailable",
      `${providerName} returned an embedding body that is not JSON`,
    );
  }
  if (!Array.isArray(body.embedding) || !body.embedding.every((v) => typeof v === "number")) {
    throw new GatewayError(
      "upstream_unavailable",
      `${providerName} returned an embedding body without an embedding`,
    );
  }
  return {
    vector: body.embedding as number[],
    ...(typeof body.inputTextTokenCount === "number" ? { inputTokens: body.inputTextTokenCount } : {}),
  };
}
