import { randomUUID } from "node:crypto";
import type { ChatResponse, ToolCall } from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import { geminiCallSignature, geminiResponseKey, geminiToolCallId } from "./gemini-tool-call-id.js";
import { mapGeminiFinishReason } from "./map-gemini-finish-reason.js";
import { mapGeminiUsage } from "./map-gemini-usage.js";
import type { GeminiResponse } from "./vertex-wire-types.js";

export function mapGeminiResponse(
  body: GeminiResponse,
  requestedModel: string,
  providerName: string,
): ChatResponse {
  const base = {
    id: body.responseId ?? `gemini-${randomUUID()}`,
    model: body.modelVersion ?? requestedModel,
    usage: mapGeminiUsage(body.usageMetadata),
  };
  const candidate = body.candidates?.[0];
  if (!candidate) {
    const blockReason = body.promptFeedback?.blockReason;
    // A blocked prompt is a 200 with no candidates.
    if (blockReason)
      return {
        ...base,
        content: "",
        toolCalls: [],
        finishReason: "content_filter",
        rawFinishReason: blockReason,
      };
    throw new GatewayError("upstream_unavailable", `${providerName} returned a response without candidates`, {
      provider: providerName,
    });
  }
  const key = geminiResponseKey(body.responseId);
  let content = "";
  const toolCalls: ToolCall[] = [];
  // Thought summaries carry no signature Gemini needs back: they are reasoning to show, not to return.
  let thoughts = "";
  for (const part of candidate.content?.parts ?? []) {
    if (part.text !== undefined && part.thought) thoughts += part.text;
    if (part.text !== undefined && !part.thought) content += part.text;
    if (part.functionCall) {
      toolCalls.push({
        id: geminiToolCallId(part.functionCall.id, key, toolCalls.length),
        name: part.functionCall.name,
        arguments: JSON.stringify(part.functionCall.args ?? {}),
        ...geminiCallSignature(part),
      });
    }
  }
  const raw = candidate.finishReason ?? "STOP";
  return {
    ...base,
    content,
    toolCalls,
    ...(thoughts ? { reasoning: [{ type: "thinking" as const, text: thoughts }] } : {}),
    finishReason: mapGeminiFinishReason(raw, toolCalls.length > 0),
    rawFinishReason: raw,
  };
}
