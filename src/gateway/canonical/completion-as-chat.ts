import { GatewayError } from "../../shared/errors.js";
import type { ChatRequest, ChatResponse, ChatStreamEvent } from "./chat.js";
import type { CompletionRequest, CompletionResponse, CompletionStreamEvent } from "./completion.js";

/**
 * The one rule for models that take chat only: a text completion's prompt becomes the single
 * user message of a chat request, and the answer's text becomes the completion's one choice.
 * What only text completions can do (several prompts or choices, echo, logprobs, suffix) has no
 * chat equivalent and is refused.
 */

const TEXT_ONLY: Array<[keyof CompletionRequest, string, (r: CompletionRequest) => boolean]> = [
  ["prompt", "more than one prompt", (r) => r.prompt.length > 1],
  ["n", "n above 1", (r) => (r.n ?? 1) > 1],
  ["echo", "echo", (r) => r.echo === true],
  ["logprobs", "logprobs", (r) => r.logprobs !== undefined],
  ["suffix", "suffix", (r) => r.suffix !== undefined],
];

export function chatRequestForCompletion(request: CompletionRequest, target: string): ChatRequest {
  for (const [param, what, used] of TEXT_ONLY) {
    if (used(request)) {
      throw new GatewayError(
        "invalid_request",
        `${param}: ${what} needs a model that serves text completions (textCompletions: true on an openai ` +
          `or openai-compatible provider); ${target} takes chat only, so the prompt goes as one chat message`,
        { param },
      );
    }
  }
  return {
    model: request.model,
    messages: [{ role: "user", content: [{ type: "text", text: request.prompt[0]! }] }],
    maxTokens: request.maxTokens,
    temperature: request.temperature,
    topP: request.topP,
    stop: request.stop,
    user: request.user,
  };
}

export function completionFromChat(response: ChatResponse): CompletionResponse {
  return {
    choices: [
      {
        index: 0,
        text: response.content,
        logprobs: null,
        finishReason: response.finishReason,
        rawFinishReason: response.rawFinishReason,
      },
    ],
    ...(response.usage ? { usage: response.usage } : {}),
  };
}

/** Only the answer's text, finish and usage have a place in a completion stream. */
export async function* completionEventsFromChat(
  events: AsyncIterable<ChatStreamEvent>,
): AsyncGenerator<CompletionStreamEvent> {
  for await (const event of events) {
    if (event.type === "text-delta" && event.text) yield { type: "choice-delta", index: 0, text: event.text };
    else if (event.type === "finish")
      yield {
        type: "choice-finish",
        index: 0,
        finishReason: event.finishReason,
        rawFinishReason: event.rawFinishReason,
      };
    else if (event.type === "usage") yield event;
  }
}
