import { z } from "zod";
import type { Usage } from "../../canonical/chat.js";
import type {
  CompletionRequest,
  CompletionResponse,
  CompletionStreamEvent,
} from "../../canonical/completion.js";
import { GatewayError } from "../../../shared/errors.js";
import type { ResponseMeta } from "../chat-ingress-format.js";
import { zodIssueToGatewayError } from "../zod-issue-error.js";
import { encodeOpenAiUsage } from "./encode-openai-chat-response.js";

/** OpenAI's legacy text completions (`POST /v1/completions`): request, answer and stream chunks. */

const completionsRequestSchema = z.object({
  model: z.string({ error: "is required: name the model (route) to call" }).min(1, "must not be empty"),
  prompt: z.union(
    [
      z.string(),
      z.array(z.string()).min(1, "must contain at least one prompt").max(2048),
      z.array(z.number().int()),
      z.array(z.array(z.number().int())),
    ],
    { error: "is required: a string or an array of strings" },
  ),
  max_tokens: z.number().int().min(0).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  echo: z.boolean().nullable().optional(),
  logprobs: z.number().int().min(0).max(5).nullable().optional(),
  suffix: z.string().nullable().optional(),
  best_of: z.number().int().nullable().optional(),
  user: z.string().optional(),
});

export interface DecodedCompletionsRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  request: Omit<CompletionRequest, "model">;
}

export function decodeOpenAiCompletionsRequest(body: unknown): DecodedCompletionsRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new GatewayError("invalid_request", "the request body must be a JSON object");
  }
  const parsed = completionsRequestSchema.safeParse(body);
  if (!parsed.success) throw zodIssueToGatewayError(parsed.error);
  const b = parsed.data;
  const prompt = typeof b.prompt === "string" ? [b.prompt] : b.prompt;
  if (prompt.some((p) => typeof p !== "string")) {
    // Token ids only make sense for one tokenizer; upstreams here differ, so ask for text.
    throw new GatewayError(
      "invalid_request",
      "prompt: token arrays are not supported by this gateway; send text",
      {
        param: "prompt",
      },
    );
  }
  if (b.best_of != null && b.best_of !== (b.n ?? 1)) {
    throw new GatewayError("invalid_request", "best_of: is not supported; ask for n choices instead", {
      param: "best_of",
    });
  }
  const stream = b.stream === true;
  return {
    model: b.model,
    stream,
    includeUsage: stream && b.stream_options?.include_usage === true,
    request: {
      prompt: prompt as string[],
      maxTokens: b.max_tokens ?? undefined,
      temperature: b.temperature ?? undefined,
      topP: b.top_p ?? undefined,
      stop: b.stop == null ? undefined : typeof b.stop === "string" ? [b.stop] : b.stop,
      n: b.n ?? undefined,
      echo: b.echo ?? undefined,
      logprobs: b.logprobs ?? undefined,
      suffix: b.suffix ?? undefined,
      user: b.user,
    },
  };
}

const completionId = (meta: ResponseMeta) => `cmpl-${meta.id.replace(/^[A-Za-z]+[-_]/, "")}`;

export function encodeOpenAiCompletionsResponse(
  response: CompletionResponse,
  meta: ResponseMeta,
): Record<string, unknown> {
  return {
    id: completionId(meta),
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: response.choices.map((c) => ({
      text: c.text,
      index: c.index,
      logprobs: c.logprobs ?? null,
      finish_reason: c.finishReason,
    })),
    ...(response.usage ? { usage: encodeOpenAiUsage(response.usage) } : {}),
    switchboard: {
      raw_finish_reason: response.choices[0]?.rawFinishReason ?? null,
      usage_estimated: response.usage?.estimated ?? true,
    },
  };
}

/** Canonical events → `text_completion` chunks, a usage chunk with empty choices when asked for, `[DONE]`. */
export async function* encodeOpenAiCompletionsStream(
  events: AsyncIterable<CompletionStreamEvent>,
  meta: ResponseMeta,
  onUsage: (usage: Usage) => void,
): AsyncGenerator<string> {
  const base = {
    id: completionId(meta),
    object: "text_completion",
    created: meta.created,
    model: meta.model,
  };
  const frame = (data: Record<string, unknown>) => `data: ${JSON.stringify({ ...base, ...data })}\n\n`;
  for await (const event of events) {
    switch (event.type) {
      case "choice-delta":
        yield frame({
          choices: [
            { text: event.text, index: event.index, logprobs: event.logprobs ?? null, finish_reason: null },
          ],
        });
        break;
      case "choice-finish":
        yield frame({
          choices: [{ text: "", index: event.index, logprobs: null, finish_reason: event.finishReason }],
          switchboard: { raw_finish_reason: event.rawFinishReason },
        });
        break;
      case "usage":
        onUsage(event.usage);
        if (meta.includeUsage)
          yield frame({
            choices: [],
            usage: encodeOpenAiUsage(event.usage),
            switchboard: { usage_estimated: event.usage.estimated },
          });
        break;
    }
  }
  yield "data: [DONE]\n\n";
}
