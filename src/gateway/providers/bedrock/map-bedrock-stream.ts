import type { ConverseStreamOutput } from "@aws-sdk/client-bedrock-runtime";
import type { ChatStreamEvent } from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import { bedrockSignatureOrigin, redactedReasoning } from "./bedrock-reasoning.js";
import { mapBedrockFinishReason } from "./map-bedrock-finish-reason.js";
import { mapBedrockUsage } from "./map-bedrock-usage.js";

/**
 * Maps decoded ConverseStream events to canonical events. Bedrock numbers every content block
 * (text and tool use alike), so tool calls are renumbered from 0 in order of appearance. Usage
 * comes in the `metadata` event after `messageStop`. Reasoning blocks have no start event: their
 * deltas carry the text, then the signature (or encrypted content) that closes them.
 */
export async function* mapBedrockStream(
  events: AsyncIterable<ConverseStreamOutput>,
  model: string,
  providerName: string,
): AsyncGenerator<ChatStreamEvent> {
  const toolIndexes = new Map<number, number>();
  let finished = false;
  for await (const event of events) {
    if (event.contentBlockStart) {
      const toolUse = event.contentBlockStart.start?.toolUse;
      if (toolUse) {
        const index = toolIndexes.size;
        toolIndexes.set(event.contentBlockStart.contentBlockIndex ?? index, index);
        yield {
          type: "tool-call-start",
          index,
          id: toolUse.toolUseId ?? `call_${index}`,
          name: toolUse.name ?? "",
        };
      }
    } else if (event.contentBlockDelta) {
      const { delta, contentBlockIndex } = event.contentBlockDelta;
      const reasoning = delta?.reasoningContent;
      if (delta?.text) yield { type: "text-delta", text: delta.text };
      else if (reasoning?.text) yield { type: "reasoning-delta", text: reasoning.text };
      else if (reasoning?.signature) {
        const signature = { origin: bedrockSignatureOrigin(model), value: reasoning.signature };
        yield { type: "reasoning-signature", signature };
      } else if (reasoning?.redactedContent)
        yield { type: "reasoning-redacted", data: redactedReasoning(reasoning.redactedContent, model) };
      else if (delta?.toolUse?.input) {
        const index = toolIndexes.get(contentBlockIndex ?? -1);
        if (index === undefined) {
          throw new GatewayError(
            "upstream_unavailable",
            `${providerName} streamed tool input for a block it never started`,
          );
        }
        yield { type: "tool-call-delta", index, argumentsDelta: delta.toolUse.input };
      }
    } else if (event.messageStop && !finished) {
      finished = true;
      const raw = event.messageStop.stopReason ?? "end_turn";
      yield {
        type: "finish",
        finishReason: mapBedrockFinishReason(raw, toolIndexes.size > 0),
        rawFinishReason: raw,
      };
    } else if (event.metadata) {
      const usage = mapBedrockUsage(event.metadata.usage);
      if (usage) yield { type: "usage", usage };
    }
  }
  if (!finished)
    throw new GatewayError("upstream_unavailable", `${providerName} ended the stream before it finished`);
}
