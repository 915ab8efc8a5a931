import type { EventSourceMessage } from "eventsource-parser";
import type { ChatStreamEvent } from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import { mapAnthropicErrorPayload } from "./map-anthropic-error.js";
import { mapAnthropicFinishReason } from "./map-anthropic-finish-reason.js";
import { mapAnthropicUsage } from "./map-anthropic-usage.js";
import type { AnthropicStreamEvent, AnthropicUsage } from "./anthropic-wire-types.js";
import { CLAUDE_SIGNATURE_ORIGIN, reasoningPartOf } from "./anthropic-reasoning.js";

interface ToolBlock {
  index: number;
  sawArguments: boolean;
}

/** message_delta counts are cumulative and win; input and cache counts often only come in message_start. */
function combineUsage(
  start: AnthropicUsage | undefined,
  delta: AnthropicUsage | undefined,
): AnthropicUsage | undefined {
  if (!start && !delta) return undefined;
  return {
    input_tokens: delta?.input_tokens ?? start?.input_tokens,
    output_tokens: delta?.output_tokens ?? start?.output_tokens,
    cache_read_input_tokens: delta?.cache_read_input_tokens ?? start?.cache_read_input_tokens,
    cache_creation_input_tokens: delta?.cache_creation_input_tokens ?? start?.cache_creation_input_tokens,
  };
}

/**
 * Maps Messages API stream events to canonical events. Content blocks are indexed across text and
 * tool_use; canonical tool-call indexes count tool calls only, from 0. An `error` event inside the
 * 200 stream (e.g. overloaded_error) is thrown as a GatewayError. One usage event, combining
 * message_start and message_delta, follows the finish.
 */
export async function* mapAnthropicStream(
  events: AsyncIterable<EventSourceMessage>,
  providerName: string,
  secrets: readonly string[] = [],
): AsyncGenerator<ChatStreamEvent> {
  const toolBlocks = new Map<number, ToolBlock>();
  let startUsage: AnthropicUsage | undefined;
  let deltaUsage: AnthropicUsage | undefined;
  let finished = false;
  for await (const sse of events) {
    if (sse.event === "ping" || sse.data === "") continue;
    let event: AnthropicStreamEvent;
    try {
      event = JSON.parse(sse.data) as AnthropicStreamEvent;
    } catch {
      throw new GatewayError("upstream_unavailable", `${providerName} sent a stream event that is not JSON`, {
        provider: providerName,
      });
    }
    if (sse.event === "error" || event.type === "error") {
      throw mapAnthropicErrorPayload(
        (event as { error?: object }).error ?? {},
        undefined,
        undefined,
        providerName,
        secrets,
      );
    }
    switch (event.type) {
      case "message_start":
        startUsage = event.message.usage;
        break;
      case "content_block_start": {
        const block = event.content_block;
        if (block.type === "tool_use") {
          const call = block as { id: string; name: string };
          const index = toolBlocks.size;
          toolBlocks.set(event.index, { index, sawArguments: false });
          yield { type: "tool-call-start", index, id: call.id, name: call.name };
        } else if (block.type === "text" && (block as { text?: string }).text) {
          yield { type: "text-delta", text: (block as { text: string }).text };
        } else if (block.type === "redacted_thinking") {
          const part = reasoningPartOf(block);
          if (part?.type === "redacted") yield { type: "reasoning-redacted", data: part.data };
        }
        break;
      }
      case "content_block_delta": {
        const delta = event.delta;
        if (delta.type === "text_delta") {
          const text = (delta as { text: string }).text;
          if (text) yield { type: "text-delta", text };
        } else if (delta.type === "thinking_delta") {
          const text = (delta as { thinking: string }).thinking;
          if (text) yield { type: "reasoning-delta", text };
        } else if (delta.type === "signature_delta") {
          const value = (delta as { signature: string }).signature;
          if (value)
            yield { type: "reasoning-signature", signature: { origin: CLAUDE_SIGNATURE_ORIGIN, value } };
        } else if (delta.type === "input_json_delta") {
          const tool = toolBlocks.get(event.index);
          const fragment = (delta as { partial_json: string }).partial_json;
          if (tool && fragment) {
            tool.sawArguments = true;
            yield { type: "tool-call-delta", index: tool.index, argumentsDelta: fragment };
          }
        }
        break;
      }
      case "content_block_stop": {
        const tool = toolBlocks.get(event.index);
        // A tool called without arguments streams no JSON at all; clients still need a JSON object.
        if (tool && !tool.sawArguments)
          yield { type: "tool-call-delta", index: tool.index, argumentsDelta: "{}" };
        break;
      }
      case "message_delta":
        if (event.usage) deltaUsage = event.usage;
        if (event.delta.stop_reason && !finished) {
          finished = true;
          yield {
            type: "finish",
            finishReason: mapAnthropicFinishReason(event.delta.stop_reason, toolBlocks.size > 0),
            rawFinishReason: event.delta.stop_reason,
          };
        }
        break;
      default:
        // message_stop, and block/delta types outside the canonical model (citations).
        break;
    }
  }
  if (!finished) {
    throw new GatewayError("upstream_unavailable", `${providerName} ended the stream before it finished`, {
      provider: providerName,
    });
  }
  const usage = mapAnthropicUsage(combineUsage(startUsage, deltaUsage));
  if (usage) yield { type: "usage", usage };
}
