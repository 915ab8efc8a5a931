import type { ChatResponse } from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import { mapOpenAiFinishReason } from "./map-openai-finish-reason.js";
import { mapOpenAiUsage } from "./map-openai-usage.js";
import type { OpenAiChatCompletion } from "./openai-wire-types.js";

export function mapOpenAiResponse(body: OpenAiChatCompletion, providerName: string): ChatResponse {
  const choice = body.choices?.[0];
  if (!choice)
    throw new GatewayError("upstream_unavailable", `${providerName} returned a completion without choices`);
  const toolCalls = (choice.message.tool_calls ?? []).map((call, index) => ({
    id: call.id ?? `call_${index}`,
    name: call.function?.name ?? "",
    arguments: call.function?.arguments ?? "",
  }));
  const raw = choice.finish_reason ?? "stop";
  return {
    id: body.id,
    model: body.model,
    content: choice.message.content ?? choice.message.refusal ?? "",
    toolCalls,
    finishReason: mapOpenAiFinishReason(raw, toolCalls.length > 0),
    rawFinishReason: raw,
    usage: mapOpenAiUsage(body.usage),
  };
}
