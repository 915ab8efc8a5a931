import { GatewayError } from "../../../shared/errors.js";

/**
 * Request fields that some OpenAI-protocol upstreams reject depending on api-version, model or
 * server: Azure before 2024-10-21 rejects `stream_options`, Azure GA versions reject
 * `max_completion_tokens` while reasoning models reject `max_tokens`, and strict servers refuse
 * unknown fields. The adapter learns each rejection once per upstream model and adjusts later bodies.
 */
export type RejectableField =
  "stream_options" | "parallel_tool_calls" | "max_tokens" | "max_completion_tokens";

const FIELDS: readonly RejectableField[] = [
  "stream_options",
  "parallel_tool_calls",
  "max_tokens",
  "max_completion_tokens",
];

const REJECTION =
  /unrecognized request argument|unknown parameter|unsupported parameter|not supported with this model|extra inputs are not permitted|extra_forbidden/i;

export interface FieldSupport {
  streamOptions: boolean;
  parallelToolCalls: boolean;
  /** Set once the upstream refused the other field name for the output limit. */
  maxTokensField?: "max_tokens" | "max_completion_tokens";
}

export function initialFieldSupport(): FieldSupport {
  return { streamOptions: true, parallelToolCalls: true };
}

/** The field of `body` an invalid-request error says the upstream does not accept, if any. */
export function rejectedField(err: unknown, body: Record<string, unknown>): RejectableField | undefined {
  if (
    !(err instanceof GatewayError) ||
    err.errorClass !== "invalid_request" ||
    !REJECTION.test(err.message)
  ) {
    return undefined;
  }
  return FIELDS.find((field) => field in body && (err.param === field || err.message.includes(field)));
}

export function learnRejection(support: FieldSupport, field: RejectableField): void {
  if (field === "stream_options") support.streamOptions = false;
  else if (field === "parallel_tool_calls") support.parallelToolCalls = false;
  else support.maxTokensField = field === "max_tokens" ? "max_completion_tokens" : "max_tokens";
}

export function applyFieldSupport(
  body: Record<string, unknown>,
  support: FieldSupport,
): Record<string, unknown> {
  const out = { ...body };
  if (!support.streamOptions) delete out.stream_options;
  if (!support.parallelToolCalls) delete out.parallel_tool_calls;
  const target = support.maxTokensField;
  const other = target === "max_tokens" ? "max_completion_tokens" : "max_tokens";
  if (target && out[other] !== undefined) {
    out[target] = out[other];
    delete out[other];
  }
  return out;
}
