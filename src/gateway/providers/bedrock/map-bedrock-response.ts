import type { ConverseCommandOutput } from "@aws-sdk/client-bedrock-runtime";
import type { ChatResponse, ReasoningPart, ToolCall } from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import { bedrockReasoningPart } from "./bedrock-reasoning.js";
import { mapBedrockFinishReason } from "./map-bedrock-finish-reason.js";
import { mapBedrockUsage } from "./map-bedrock-usage.js";

export function mapBedrockResponse(
  output: ConverseCommandOutput,
  model: string,
  providerName: string,
): ChatResponse {
  const message = output.output?.message;
  if (!message)
    throw new GatewayError(
      "upstream_unavailable",
      `${providerName} returned a Converse response without a message`,
    );
  let content = "";
  const toolCalls: ToolCall[] = [];
  const reasoning: ReasoningPart[] = [];
  for (const block of message.content ?? []) {
    if (block.text !== undefined) content += block.text;
    else if (block.reasoningContent) {
      const part = bedrockReasoningPart(block.reasoningContent, model);
      if (part) reasoning.push(part);
    } else if (block.toolUse) {
      toolCalls.push({
        id: block.toolUse.toolUseId ?? `call_${toolCalls.length}`,
        name: block.toolUse.name ?? "",
        arguments: JSON.stringify(block.toolUse.input ?? {}),
      });
    }
  }
  const raw = output.stopReason ?? "end_turn";
  return {
    id: output.$metadata.requestId ?? `bedrock-${Date.now()}`,
    model,
    content,
    toolCalls,
    ...(reasoning.length > 0 ? { reasoning } : {}),
    finishReason: mapBedrockFinishReason(raw, toolCalls.length > 0),
    rawFinishReason: raw,
    usage: mapBedrockUsage(output.usage),
  };
}
