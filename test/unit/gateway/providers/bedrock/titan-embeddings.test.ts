import { describe, expect, it } from "vitest";
import { mapBounded } from "../../../../../src/gateway/providers/bedrock/map-bounded.js";
import {
  parseTitanEmbedding,
  titanEmbeddingBody,
} from "../../../../../src/gateway/providers/bedrock/titan-embeddings.js";

describe("titanEmbeddingBody", () => {
  it("asks Titan v2 for normalized vectors of the requested size", () => {
    expect(titanEmbeddingBody("amazon.titan-embed-text-v2:0", "hi", 512)).toEqual({
      inputText: "hi",
      dimensions: 512,
      normalize: true,
    });
    expect(titanEmbeddingBody("amazon.titan-embed-text-v2:0", "hi", undefined)).toEqual({
      inputText: "hi",
      normalize: true,
    });
  });

  it("sends only inputText to Titan v1 and refuses a size it cannot produce", () => {
    expect(titanEmbeddingBody("amazon.titan-embed-text-v1", "hi", undefined)).toEqual({ inputText: "hi" });
    expect(() => titanEmbeddingBody("amazon.titan-embed-text-v1", "hi", 256)).toThrow(/1536/);
  });

  it("refuses models that are not Titan text embeddings", () => {
    expect(() => titanEmbeddingBody("cohere.embed-english-v3", "hi", undefined)).toThrow(
      /not supported by the bedrock adapter/,
    );
  });
});

describe("parseTitanEmbedding", () => {
  it("reads the vector and token count", () => {
    expect(parseTitanEmbedding('{"embedding":[0.5,-0.5],"inputTextTokenCount":3}', "b")).toEqual({
      vector: [0.5, -0.5],
      inputTokens: 3,
    });
    expect(parseTitanEmbedding('{"embedding":[1]}', "b")).toEqual({ vector: [1] });
    expect(() => parseTitanEmbedding('{"message":"x"}', "b")).toThrow(/without an embedding/);
  });
});

describe("mapBounded", () => {
  it("keeps order and never runs more than the limit at once", async () => {
    let running = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it("stops starting calls after the first failure and reports it", async () => {
    const started: number[] = [];
    await expect(
      mapBounded([1, 2, 3, 4, 5], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error("boom");
        return n;
      }),
    ).rejects.toThrow("boom");
    expect(started).toEqual([1, 2]);
  });
});
