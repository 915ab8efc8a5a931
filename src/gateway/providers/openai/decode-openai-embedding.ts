import { GatewayError } from "../../../shared/errors.js";

/**
 * An embedding as sent with `encoding_format: "float"` (a JSON array) or `"base64"` (little-endian
 * float32 bytes, a quarter of the JSON size, which is why OpenAI's own SDK asks for it).
 */
export function decodeOpenAiEmbedding(value: number[] | string, providerName: string): number[] {
  if (Array.isArray(value)) return value;
  const bytes = Buffer.from(value, "base64");
  if (bytes.byteLength % 4 !== 0) {
    throw new GatewayError(
      "upstream_unavailable",
      `${providerName} returned a base64 embedding that is not float32 data`,
    );
  }
  const vector = new Array<number>(bytes.byteLength / 4);
  for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4);
  return vector;
}
