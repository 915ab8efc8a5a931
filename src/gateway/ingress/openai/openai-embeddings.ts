import { z } from "zod";
import type { EmbeddingResponse } from "../../canonical/embeddings.js";
import { GatewayError } from "../../../shared/errors.js";
import { zodIssueToGatewayError } from "../zod-issue-error.js";

const MAX_INPUTS = 2048;

const embeddingsRequestSchema = z.object({
  model: z.string({ error: "is required: name the embedding model (route) to call" }).min(1),
  input: z.union(
    [
      z.string().min(1, "must not be empty"),
      z
        .array(z.string().min(1, "must not be empty"))
        .min(1, "must contain at least one string")
        .max(MAX_INPUTS),
      z.array(z.number().int()).min(1),
      z.array(z.array(z.number().int()).min(1)).min(1).max(MAX_INPUTS),
    ],
    { error: "must be a string, an array of strings, or token arrays" },
  ),
  dimensions: z.number().int().positive().optional(),
  encoding_format: z.enum(["float", "base64"]).optional(),
  user: z.string().optional(),
});

export interface DecodedEmbeddingsRequest {
  model: string;
  input: string[];
  dimensions?: number;
  encodingFormat: "float" | "base64";
  user?: string;
}

export function decodeOpenAiEmbeddingsRequest(body: unknown): DecodedEmbeddingsRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new GatewayError("invalid_request", "the request body must be a JSON object");
  }
  const parsed = embeddingsRequestSchema.safeParse(body);
  if (!parsed.success) throw zodIssueToGatewayError(parsed.error);
  const { input } = parsed.data;
  if (typeof input !== "string" && typeof input[0] !== "string") {
    // Token ids only make sense for one tokenizer; upstreams here differ, so ask for text.
    throw new GatewayError(
      "invalid_request",
      "input: token arrays are not supported by this gateway; send text",
      {
        param: "input",
      },
    );
  }
  return {
    model: parsed.data.model,
    input: typeof input === "string" ? [input] : (input as string[]),
    dimensions: parsed.data.dimensions,
    encodingFormat: parsed.data.encoding_format ?? "float",
    user: parsed.data.user,
  };
}

function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}

export function encodeOpenAiEmbeddingsResponse(
  response: EmbeddingResponse,
  model: string,
  encodingFormat: "float" | "base64",
): Record<string, unknown> {
  const usage = response.usage ?? { inputTokens: 0, estimated: true };
  return {
    object: "list",
    data: response.vectors.map((vector, index) => ({
      object: "embedding",
      index,
      embedding: encodingFormat === "base64" ? toBase64(vector) : vector,
    })),
    model,
    usage: { prompt_tokens: usage.inputTokens, total_tokens: usage.inputTokens },
    switchboard: { usage_estimated: usage.estimated },
  };
}
