import { describe, expect, it } from "vitest";
import {
  convertToEmbeddingPredictRequest,
  embeddingBatchSize,
  mapEmbeddingPredictResponse,
} from "../../../../../src/gateway/providers/vertex/vertex-embedding-predict.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

describe("Vertex embedding predict", () => {
  it("batches 250 texts per call, but one for gemini-embedding models", () => {
    expect(embeddingBatchSize("text-embedding-005")).toBe(250);
    expect(embeddingBatchSize("gemini-embedding-001")).toBe(1);
  });

  it("builds instances and outputDimensionality", () => {
    expect(convertToEmbeddingPredictRequest(["a", "b"], 256)).toEqual({
      instances: [{ content: "a" }, { content: "b" }],
      parameters: { outputDimensionality: 256 },
    });
    expect(convertToEmbeddingPredictRequest(["a"], undefined)).toEqual({ instances: [{ content: "a" }] });
  });

  it("reads vectors and sums token counts, or reports none when any is missing", () => {
    const body = {
      predictions: [
        { embeddings: { values: [1, 0], statistics: { token_count: 2, truncated: false } } },
        { embeddings: { values: [0, 1], statistics: { token_count: 3, truncated: false } } },
      ],
    };
    expect(mapEmbeddingPredictResponse(body, 2, "p")).toEqual({
      vectors: [
        [1, 0],
        [0, 1],
      ],
      tokens: 5,
    });
    expect(
      mapEmbeddingPredictResponse({ predictions: [{ embeddings: { values: [1] } }] }, 1, "p").tokens,
    ).toBeUndefined();
  });

  it("fails when the count of vectors does not match the inputs", () => {
    expect(() => mapEmbeddingPredictResponse({ predictions: [] }, 1, "p")).toThrow(GatewayError);
  });
});
