import type { ChatResponse, ReasoningPart, ReasoningSignature } from "../../canonical/chat.js";
import type { ResponseMeta } from "../chat-ingress-format.js";
import { toolCallIdForClient } from "../tool-call-id-carrier.js";
import {
  CLAUDE_THINKING_ORIGIN,
  anthropicMessageId,
  switchboardExtension,
  toAnthropicStopReason,
  toAnthropicUsage,
} from "./anthropic-message-fields.js";

/** Anthropic's tool_use.input is an object; "" means a call without arguments. Undefined: not a JSON object. */
function parseToolInput(args: string): Record<string, unknown> | undefined {
  if (args.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(args);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Thinking as an Anthropic client sees it. Only Claude's signatures mean anything to Claude; thinking
 * from other models goes out unsigned, which is how the gateway knows it again when echoed.
 */
export function thinkingBlockFor(part: ReasoningPart): Record<string, unknown> {
  if (part.type === "redacted") return { type: "redacted_thinking", data: part.data.value };
  return { type: "thinking", thinking: part.text, signature: claudeSignature(part.signature) };
}

export function claudeSignature(signature: ReasoningSignature | undefined): string {
  return signature?.origin === CLAUDE_THINKING_ORIGIN ? signature.value : "";
}

/**
 * Canonical response → Anthropic `message`. Arguments that are not a JSON object (weak
 * upstream models produce such) become `input: {}` so SDK clients still get a well-formed
 * tool_use, which they answer with an error tool_result the model can correct; the raw text is
 * kept in `switchboard.invalid_tool_input` by tool_use id. stop_sequence is null: the
 * canonical model does not carry which sequence matched.
 */
export function encodeAnthropicResponse(response: ChatResponse, meta: ResponseMeta): Record<string, unknown> {
  const content: Record<string, unknown>[] = (response.reasoning ?? []).map(thinkingBlockFor);
  if (response.content !== "") content.push({ type: "text", text: response.content });
  const invalidToolInput: Record<string, string> = {};
  for (const call of response.toolCalls) {
    const input = parseToolInput(call.arguments);
    const id = toolCallIdForClient(call);
    if (input === undefined) invalidToolInput[id] = call.arguments;
    content.push({ type: "tool_use", id, name: call.name, input: input ?? {} });
  }
  return {
    id: anthropicMessageId(meta.id),
    type: "message",
    role: "assistant",
    model: meta.model,
    content,
    stop_reason: toAnthropicStopReason(response.finishReason, response.rawFinishReason),
    stop_sequence: null,
    usage: toAnthropicUsage(response.usage),
    switchboard: {
      ...switchboardExtension(response.rawFinishReason, response.usage),
      ...(Object.keys(invalidToolInput).length > 0 ? { invalid_tool_input: invalidToolInput } : {}),
    },
  };
}
