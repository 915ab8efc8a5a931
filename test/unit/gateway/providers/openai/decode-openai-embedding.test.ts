import { describe, expect, it } from "vitest";
import { decodeOpenAiEmbedding } from "../../../../../src/gateway/providers/openai/decode-openai-embedding.js";

describe("decodeOpenAiEmbedding", () => {
  it("decodes little-endian float32 base64 exactly", () => {
    const bytes = Buffer.alloc(12);
    [0.5, -1.25, 3.140000104904175].forEach((v, i) => bytes.writeFloatLE(v, i * 4));
    expect(decodeOpenAiEmbedding(bytes.toString("base64"), "p")).toEqual([0.5, -1.25, 3.140000104904175]);
  });

  it("passes float arrays through and rejects data that is not float32", () => {
    expect(decodeOpenAiEmbedding([0.1, 0.2], "p")).toEqual([0.1, 0.2]);
    expect(() => decodeOpenAiEmbedding(Buffer.alloc(6).toString("base64"), "p")).toThrow("not float32");
  });
});
