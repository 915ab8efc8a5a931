import type { EventSourceMessage } from "eventsource-parser";
import type { ChatStreamEvent, Usage } from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import { mapOpenAiFinishReason } from "./map-openai-finish-reason.js";
import { mapOpenAiUsage } from "./map-openai-usage.js";
import type { OpenAiChatChunk } from "./openai-wire-types.js";
import { mapOpenAiErrorPayload } from "./map-openai-error.js";

/**
 * Maps OpenAI chat chunks to canonical events. Tool calls are renumbered in order of first
 * appearance. Usage may come in the finish chunk, in a chunk after it (OpenAI, vLLM) or, with
 * vLLM's continuous usage stats, cumulatively in every chunk: the last one seen is reported once,
 * when the stream ends.
 */
export async function* mapOpenAiStream(
  events: AsyncIterable<EventSourceMessage>,
  providerName: string,
  secrets: readonly string[] = [],
): AsyncGenerator<ChatStreamEvent> {
  const toolIndexes = new Map<number, number>();
  let finished = false;
  let usage: Usage | undefined;
  for await (const event of events) {
    if (event.data === "[DONE]") break;
    let chunk: OpenAiChatChunk;
    try {
      chunk = JSON.parse(event.data) as OpenAiChatChunk;
    } catch {
      throw new GatewayError("upstream_unavailable", `${providerName} sent a stream event that is not JSON`);
    }
    if (chunk.error) throw mapOpenAiErrorPayload(chunk.error, 500, undefined, providerName, secrets);
    for (const choice of chunk.choices ?? []) {
      if (choice.index !== 0) continue;
      const delta = choice.delta ?? {};
      if (delta.content) yield { type: "text-delta", text: delta.content };
      // Structured-output refusals stream in their own field; the non-stream mapping shows them as content too.
      if (delta.refusal) yield { type: "text-delta", text: delta.refusal };
      for (const call of delta.tool_calls ?? []) {
        const upstreamIndex = call.index ?? 0;
        let index = toolIndexes.get(upstreamIndex);
        if (index === undefined) {
          index = toolIndexes.size;
          toolIndexes.set(upstreamIndex, index);
          yield {
            type: "tool-call-start",
            index,
            id: call.id ?? `call_${index}`,
            name: call.function?.name ?? "",
          };
        }
        if (call.function?.arguments)
          yield { type: "tool-call-delta", index, argumentsDelta: call.function.arguments };
      }
      if (choice.finish_reason && !finished) {
        finished = true;
        yield {
          type: "finish",
          finishReason: mapOpenAiFinishReason(choice.finish_reason, toolIndexes.size > 0),
          rawFinishReason: choice.finish_reason,
        };
      }
    }
    usage = mapOpenAiUsage(chunk.usage) ?? usage;
  }
  if (!finished) {
    throw new GatewayError("upstream_unavailable", `${providerName} ended the stream before it finished`);
  }
  if (usage) yield { type: "usage", usage };
}
