import type { EventSourceMessage } from "eventsource-parser";
import type { Usage } from "../../canonical/chat.js";
import type {
  CompletionRequest,
  CompletionResponse,
  CompletionStreamEvent,
} from "../../canonical/completion.js";
import { GatewayError } from "../../../shared/errors.js";
import { mapOpenAiFinishReason } from "./map-openai-finish-reason.js";
import { mapOpenAiUsage } from "./map-openai-usage.js";
import { mapOpenAiErrorPayload } from "./map-openai-error.js";
import type { OpenAiErrorPayload, OpenAiUsage } from "./openai-wire-types.js";

/** OpenAI's legacy `/completions` wire format, as OpenAI, vLLM, Ollama and TGI serve it. */

interface OpenAiTextChoice {
  index?: number;
  text?: string;
  logprobs?: unknown;
  finish_reason?: string | null;
}

export interface OpenAiTextCompletion {
  choices?: OpenAiTextChoice[];
  usage?: OpenAiUsage | null;
  error?: OpenAiErrorPayload;
}

export function convertToOpenAiCompletionRequest(
  request: CompletionRequest,
  stream: boolean,
  streamUsage: boolean,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: request.model,
    prompt: request.prompt.length === 1 ? request.prompt[0] : request.prompt,
  };
  const fields: Array<[string, unknown]> = [
    ["max_tokens", request.maxTokens],
    ["temperature", request.temperature],
    ["top_p", request.topP],
    ["stop", request.stop],
    ["n", request.n],
    ["echo", request.echo],
    ["logprobs", request.logprobs],
    ["suffix", request.suffix],
    ["user", request.user],
  ];
  for (const [name, value] of fields) if (value !== undefined) body[name] = value;
  if (stream) {
    body.stream = true;
    if (streamUsage) body.stream_options = { include_usage: true };
  }
  return body;
}

function choiceIndex(choice: OpenAiTextChoice, position: number): number {
  return typeof choice.index === "number" ? choice.index : position;
}

export function mapOpenAiCompletion(json: OpenAiTextCompletion, providerName: string): CompletionResponse {
  if (!Array.isArray(json.choices))
    throw new GatewayError("upstream_unavailable", `${providerName} returned a completion without choices`);
  const usage = mapOpenAiUsage(json.usage);
  return {
    choices: json.choices
      .map((choice, i) => ({
        index: choiceIndex(choice, i),
        text: choice.text ?? "",
        logprobs: choice.logprobs ?? null,
        finishReason: mapOpenAiFinishReason(choice.finish_reason, false),
        rawFinishReason: choice.finish_reason ?? "stop",
      }))
      .sort((a, b) => a.index - b.index),
    ...(usage ? { usage } : {}),
  };
}

/** Text chunks → canonical events; usage (in the last chunk or one after it) is reported once, at the end. */
export async function* mapOpenAiCompletionStream(
  events: AsyncIterable<EventSourceMessage>,
  providerName: string,
  secrets: readonly string[],
): AsyncGenerator<CompletionStreamEvent> {
  let usage: Usage | undefined;
  let finished = 0;
  for await (const event of events) {
    if (event.data === "[DONE]") break;
    let chunk: OpenAiTextCompletion;
    try {
      chunk = JSON.parse(event.data) as OpenAiTextCompletion;
    } catch {
      throw new GatewayError("upstream_unavailable", `${providerName} sent a stream event that is not JSON`);
    }
    if (chunk.error) throw mapOpenAiErrorPayload(chunk.error, 500, undefined, providerName, secrets);
    for (const [i, choice] of (chunk.choices ?? []).entries()) {
      const index = choiceIndex(choice, i);
      if (choice.text || choice.logprobs)
        yield {
          type: "choice-delta",
          index,
          text: choice.text ?? "",
          logprobs: choice.logprobs ?? undefined,
        };
      if (choice.finish_reason) {
        finished++;
        yield {
          type: "choice-finish",
          index,
          finishReason: mapOpenAiFinishReason(choice.finish_reason, false),
          rawFinishReason: choice.finish_reason,
        };
      }
    }
    usage = mapOpenAiUsage(chunk.usage) ?? usage;
  }
  if (finished === 0)
    throw new GatewayError("upstream_unavailable", `${providerName} ended the stream before it finished`);
  if (usage) yield { type: "usage", usage };
}
