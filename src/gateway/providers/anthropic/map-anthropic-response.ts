import type { ChatResponse, ToolCall } from "../../canonical/chat.js";
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
  for (const block of body.content) {
    if (block.type === "text") content += (block as { text: string }).text;
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
    finishReason: mapAnthropicFinishReason(raw, toolCalls.length > 0),
    rawFinishReason: raw,
    usage: mapAnthropicUsage(body.usage),
  };
}
