import { readFile } from "node:fs/promises";
import { request, type Dispatcher } from "undici";

/** How a failed embeddings call is handled. */
export type EmbeddingFailureKind =
  /** Retry later: rate limits, timeouts, 5xx, connection failures. */
  | "transient"
  /** The input was refused (too long, filtered, invalid): one of the rows is at fault. */
  | "input"
  /** The route's data-residency policy forbids the target: never retried. */
  | "policy"
  /** The gateway refuses this worker or model (auth, unknown model): never retried. */
  | "refused";

export class EmbeddingRequestError extends Error {
  constructor(
    readonly kind: EmbeddingFailureKind,
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "EmbeddingRequestError";
  }
}

export interface EmbeddingResult {
  vectors: Float32Array[];
  promptTokens: number;
}

export interface EmbeddingClientOptions {
  gatewayUrl: string;
  model: string;
  /** Consumer API key for routes that require one; sent as a Bearer token, never logged. */
  apiKey?: string;
  /**
   * File holding a ServiceAccount token, sent as the Bearer token instead; read for every request
   * because the kubelet rotates projected tokens in place.
   */
  tokenFile?: string;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

interface OpenAiErrorBody {
  error?: { message?: string; code?: string | null; type?: string };
}

/**
 * Calls the gateway's OpenAI-style POST /v1/embeddings, so the route's policy, residency,
 * limits, circuits and accounting apply to every batch. Vectors come base64-encoded float32
 * (a quarter of the JSON size for the same values).
 */
export class EmbeddingClient {
  private readonly url: string;

  constructor(private readonly options: EmbeddingClientOptions) {
    this.url = new URL("/v1/embeddings", options.gatewayUrl).toString();
  }

  async embed(inputs: readonly string[], signal?: AbortSignal): Promise<EmbeddingResult> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    const credential = this.options.tokenFile
      ? (await readFile(this.options.tokenFile, "utf8")).trim()
      : this.options.apiKey;
    if (credential) headers.authorization = `Bearer ${credential}`;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.url, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: this.options.model, input: inputs, encoding_format: "base64" }),
        headersTimeout: this.options.timeoutMs ?? 120_000,
        bodyTimeout: this.options.timeoutMs ?? 120_000,
        signal,
        dispatcher: this.options.dispatcher,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new EmbeddingRequestError("transient", `gateway unreachable: ${(err as Error).message}`);
    }
    const text = await response.body.text();
    if (response.statusCode !== 200)
      throw failureOf(response.statusCode, text, response.headers["retry-after"]);
    return decode(text, inputs.length);
  }
}

function failureOf(status: number, text: string, retryAfter: unknown): EmbeddingRequestError {
  let body: OpenAiErrorBody = {};
  try {
    body = JSON.parse(text) as OpenAiErrorBody;
  } catch {
    // Not JSON (a proxy's error page): the status alone decides.
  }
  const code = body.error?.code ?? undefined;
  const message = `gateway answered ${status}${code ? ` ${code}` : ""}: ${body.error?.message ?? text.slice(0, 200)}`;
  const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  const retryAfterMs = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
  if (code === "policy_violation") return new EmbeddingRequestError("policy", message, status);
  if (status === 408 || status === 429 || status >= 500) {
    return new EmbeddingRequestError("transient", message, status, retryAfterMs);
  }
  if (status === 400 || status === 413 || status === 422)
    return new EmbeddingRequestError("input", message, status);
  return new EmbeddingRequestError("refused", message, status);
}

function decode(text: string, expected: number): EmbeddingResult {
  const body = JSON.parse(text) as {
    data?: Array<{ index: number; embedding: string | number[] }>;
    usage?: { prompt_tokens?: number };
  };
  const data = body.data ?? [];
  if (data.length !== expected) {
    throw new EmbeddingRequestError(
      "transient",
      `gateway returned ${data.length} embeddings for ${expected} inputs`,
    );
  }
  const vectors = new Array<Float32Array>(expected);
  for (const item of data) {
    vectors[item.index] =
      typeof item.embedding === "string"
        ? float32FromBase64(item.embedding)
        : Float32Array.from(item.embedding);
  }
  if (vectors.some((v) => v === undefined)) {
    throw new EmbeddingRequestError("transient", "gateway returned embeddings with missing indexes");
  }
  return { vectors, promptTokens: body.usage?.prompt_tokens ?? 0 };
}

function float32FromBase64(encoded: string): Float32Array {
  const bytes = Buffer.from(encoded, "base64");
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}
