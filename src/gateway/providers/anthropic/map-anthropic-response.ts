import type { ChatResponse, ReasoningPart, ToolCall } from "../../canonical/chat.js";
import { reasoningPartOf } from "./anthropic-reasoning.js";
import { GatewayError } from "../../../shared/errors.js";
import { mapAnthropicFinishReason } from "./map-anthropic-finish-reason.js";
import { mapAnthropicUsage } from "./map-anthropic-usage.js";
import type { AnthropicMessage } from "./anthropic-wire-types.js";

export function mapAnthropicResponse(body: AnthropicMessage, providerName: string): ChatResponse {
  if (!Array.isArray(body.content)) {
    throw new GatewayError("upstream_unavailable", `${providerName} returned a message without content`, {
      provider: providerName,
    });
  }
  let content = "";
  const toolCalls: ToolCall[] = [];
  const reasoning: ReasoningPart[] = [];
  for (const block of body.content) {
    const part = reasoningPartOf(block);
    if (part) reasoning.push(part);
    else if (block.type === "text") content += (block as { text: string }).text;
    else if (block.type === "tool_use") {
      const call = block as { id: string; name: string; input: unknown };
      toolCalls.push({ id: call.id, name: call.name, arguments: JSON.stringify(call.input ?? {}) });
    }
  }
  const raw = body.stop_reason ?? "end_turn";
  return {
    id: body.id,
    model: body.model,
    content,
    toolCalls,
    ...(reasoning.length > 0 ? { reasoning } : {}),
    finishReason: mapAnthropicFinishReason(raw, toolCalls.length > 0),
    rawFinishReason: raw,
    usage: mapAnthropicUsage(body.usage),
  };
}
