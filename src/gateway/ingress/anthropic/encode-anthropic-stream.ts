import type { ChatStreamEvent, FinishReason, Usage } from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import type { ResponseMeta } from "../chat-ingress-format.js";
import { claudeSignature, thinkingBlockFor } from "./encode-anthropic-response.js";
import { toolCallIdForClient } from "../tool-call-id-carrier.js";
import {
  anthropicMessageId,
  switchboardExtension,
  toAnthropicStopReason,
  toAnthropicUsage,
} from "./anthropic-message-fields.js";

function frame(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/**
 * Canonical events → Anthropic's SSE sequence: message_start, one content block at a time
 * (content_block_start, its deltas, content_block_stop, indexes from 0), message_delta with
 * the stop reason and usage, message_stop.
 *
 * Usage: canonical usage arrives only at the end, after the content. message_start therefore
 * carries the gateway's estimate of the prompt's tokens, flagged `switchboard.usage_estimated`
 * (clients such as LangChain add message_start's input_tokens as a number, so null would break
 * them; 0 would be a lie), and output_tokens 0. message_delta then carries the measured input,
 * output and cache counts, which the Anthropic SDKs apply over message_start's (MessageStream
 * overwrites input and cache tokens when message_delta has them), so `finalMessage().usage` is
 * right.
 *
 * Tool arguments are forwarded fragment by fragment as they arrive, like Anthropic's own
 * input_json_delta, so an upstream that produces invalid JSON reaches the client as produced.
 */
export async function* encodeAnthropicStream(
  events: AsyncIterable<ChatStreamEvent>,
  meta: ResponseMeta,
): AsyncGenerator<string> {
  yield frame("message_start", {
    message: {
      id: anthropicMessageId(meta.id),
      type: "message",
      role: "assistant",
      model: meta.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: meta.promptTokensEstimate ?? null,
        output_tokens: 0,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: null,
      },
      ...(meta.promptTokensEstimate === undefined ? {} : { switchboard: { usage_estimated: true } }),
    },
  });

  let nextIndex = 0;
  let open: { index: number; kind: "text" | "tool_use" | "thinking" | "closed" } | undefined;
  const toolBlockIndexes = new Map<number, number>();
  let finish: { finishReason: FinishReason; rawFinishReason: string } | undefined;
  let usage: Usage | undefined;

  const startBlock = (
    kind: "text" | "tool_use" | "thinking" | "closed",
    contentBlock: Record<string, unknown>,
  ): string[] => {
    const frames = open ? [frame("content_block_stop", { index: open.index })] : [];
    open = { index: nextIndex++, kind };
    frames.push(frame("content_block_start", { index: open.index, content_block: contentBlock }));
    return frames;
  };

  for await (const event of events) {
    switch (event.type) {
      case "text-delta": {
        if (event.text === "") break;
        if (open?.kind !== "text") yield* startBlock("text", { type: "text", text: "" });
        yield frame("content_block_delta", {
          index: open!.index,
          delta: { type: "text_delta", text: event.text },
        });
        break;
      }
      case "reasoning-delta":
        if (event.text === "") break;
        if (open?.kind !== "thinking")
          yield* startBlock("thinking", { type: "thinking", thinking: "", signature: "" });
        yield frame("content_block_delta", {
          index: open!.index,
          delta: { type: "thinking_delta", thinking: event.text },
        });
        break;
      case "reasoning-signature":
        if (open?.kind !== "thinking")
          yield* startBlock("thinking", { type: "thinking", thinking: "", signature: "" });
        yield frame("content_block_delta", {
          index: open!.index,
          delta: { type: "signature_delta", signature: claudeSignature(event.signature) },
        });
        // A signature ends its block: more thinking is a block of its own.
        open!.kind = "closed";
        break;
      case "reasoning-redacted":
        yield* startBlock("closed", thinkingBlockFor({ type: "redacted", data: event.data }));
        break;
      case "tool-call-start":
        yield* startBlock("tool_use", {
          type: "tool_use",
          id: toolCallIdForClient(event),
          name: event.name,
          input: {},
        });
        toolBlockIndexes.set(event.index, open!.index);
        break;
      case "tool-call-delta": {
        if (event.argumentsDelta === "") break;
        const index = toolBlockIndexes.get(event.index);
        if (index === undefined) {
          throw new GatewayError(
            "internal",
            `the upstream stream sent arguments for tool call ${event.index} before starting it`,
          );
        }
        // Adapters stream calls one after another; should a fragment of an earlier call come
        // late, it still carries that call's index, by which the SDKs accumulate.
        yield frame("content_block_delta", {
          index,
          delta: { type: "input_json_delta", partial_json: event.argumentsDelta },
        });
        break;
      }
      case "finish":
        finish = event;
        break;
      case "usage":
        usage = event.usage;
        break;
    }
  }
  if (!finish)
    throw new GatewayError("upstream_unavailable", "the upstream ended the stream before it finished");
  if (open) yield frame("content_block_stop", { index: open.index });
  yield frame("message_delta", {
    delta: {
      stop_reason: toAnthropicStopReason(finish.finishReason, finish.rawFinishReason),
      stop_sequence: null,
    },
    usage: toAnthropicUsage(usage),
    switchboard: switchboardExtension(finish.rawFinishReason, usage),
  });
  yield frame("message_stop", {});
}
