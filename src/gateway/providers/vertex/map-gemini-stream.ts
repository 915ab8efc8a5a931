import type { EventSourceMessage } from "eventsource-parser";
import type { ChatStreamEvent } from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import { geminiCallSignature, geminiResponseKey, geminiToolCallId } from "./gemini-tool-call-id.js";
import { mapGeminiFinishReason } from "./map-gemini-finish-reason.js";
import { mapGeminiUsage } from "./map-gemini-usage.js";
import { mapGoogleErrorPayload } from "./map-google-error.js";
import type { GeminiResponse, GeminiUsageMetadata } from "./vertex-wire-types.js";

/**
 * Maps `streamGenerateContent?alt=sse` events (each a whole GenerateContentResponse) to canonical
 * events. Gemini sends each function call complete in one part, so a call becomes one
 * tool-call-start and one tool-call-delta with the full arguments. Usage is cumulative per event;
 * the one on (or after) the finishing event is reported.
 */
export async function* mapGeminiStream(
  events: AsyncIterable<EventSourceMessage>,
  providerName: string,
): AsyncGenerator<ChatStreamEvent> {
  let responseKey: string | undefined;
  let toolCalls = 0;
  let finished = false;
  let usageSent = false;
  let latestUsage: GeminiUsageMetadata | undefined;

  for await (const event of events) {
    let chunk: GeminiResponse;
    try {
      chunk = JSON.parse(event.data) as GeminiResponse;
    } catch {
      throw new GatewayError("upstream_unavailable", `${providerName} sent a stream event that is not JSON`, {
        provider: providerName,
      });
    }
    if (chunk.error)
      throw mapGoogleErrorPayload(chunk.error, chunk.error.code ?? 500, undefined, providerName);
    responseKey ??= geminiResponseKey(chunk.responseId);
    if (chunk.usageMetadata) latestUsage = chunk.usageMetadata;

    const candidate = chunk.candidates?.[0];
    for (const part of candidate?.content?.parts ?? []) {
      if (part.text) yield { type: part.thought ? "reasoning-delta" : "text-delta", text: part.text };
      if (part.functionCall) {
        const index = toolCalls++;
        yield {
          type: "tool-call-start",
          index,
          id: geminiToolCallId(part.functionCall.id, responseKey, index),
          name: part.functionCall.name,
          ...geminiCallSignature(part),
        };
        yield {
          type: "tool-call-delta",
          index,
          argumentsDelta: JSON.stringify(part.functionCall.args ?? {}),
        };
      }
    }

    const raw = candidate?.finishReason ?? (candidate ? undefined : chunk.promptFeedback?.blockReason);
    if (raw && !finished) {
      finished = true;
      const finishReason = candidate ? mapGeminiFinishReason(raw, toolCalls > 0) : "content_filter";
      yield { type: "finish", finishReason, rawFinishReason: raw };
    }
    if (finished && !usageSent) {
      const usage = mapGeminiUsage(latestUsage);
      if (usage) {
        usageSent = true;
        yield { type: "usage", usage };
      }
    }
  }
  if (!finished) {
    throw new GatewayError("upstream_unavailable", `${providerName} ended the stream before it finished`, {
      provider: providerName,
    });
  }
}
