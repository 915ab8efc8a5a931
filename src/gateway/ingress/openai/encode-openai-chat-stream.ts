import type { ChatStreamEvent } from "../../canonical/chat.js";
import type { ResponseMeta } from "../chat-ingress-format.js";
import { toolCallIdForClient } from "../tool-call-id-carrier.js";
import { ReasoningAssembler } from "../../canonical/reasoning-events.js";
import { encodeOpenAiUsage, switchboardExtension } from "./encode-openai-chat-response.js";

function frame(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/**
 * Canonical events → `chat.completion.chunk` frames: role on the first delta, tool-call
 * id/type/name only on a call's first delta, the finish chunk, then (when asked for) a usage
 * chunk with empty choices, then `[DONE]`.
 */
export async function* encodeOpenAiChatStream(
  events: AsyncIterable<ChatStreamEvent>,
  meta: ResponseMeta,
): AsyncGenerator<string> {
  const base = { id: meta.id, object: "chat.completion.chunk", created: meta.created, model: meta.model };
  const chunk = (
    delta: Record<string, unknown>,
    finishReason: string | null = null,
    extra: Record<string, unknown> = {},
  ) =>
    frame({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...extra });
  let roleSent = false;
  const withRole = (delta: Record<string, unknown>) => {
    if (roleSent) return delta;
    roleSent = true;
    return { role: "assistant", ...delta };
  };
  let finish: { finishReason: string; rawFinishReason: string } | undefined;
  // Signed reasoning reaches the client inside the turn's first tool call id.
  const reasoning = new ReasoningAssembler();
  let firstCall = true;
  for await (const event of events) {
    if (reasoning.add(event)) {
      if (event.type === "reasoning-delta" && event.text)
        yield chunk(withRole({ reasoning_content: event.text }));
      continue;
    }
    switch (event.type) {
      case "text-delta":
        if (event.text) yield chunk(withRole({ content: event.text }));
        break;
      case "tool-call-start":
        yield chunk(
          withRole({
            tool_calls: [
              {
                index: event.index,
                id: toolCallIdForClient(event, firstCall ? reasoning.parts : []),
                type: "function",
                function: { name: event.name, arguments: "" },
              },
            ],
          }),
        );
        firstCall = false;
        break;
      case "tool-call-delta":
        yield chunk(
          withRole({ tool_calls: [{ index: event.index, function: { arguments: event.argumentsDelta } }] }),
        );
        break;
      case "finish":
        finish = event;
        break;
      case "usage":
        // Finish goes out once usage is known so the extension can say whether it was estimated.
        if (finish) {
          yield chunk(withRole({}), finish.finishReason, {
            switchboard: switchboardExtension(finish.rawFinishReason, event.usage),
          });
          finish = undefined;
        }
        if (meta.includeUsage) yield frame({ ...base, choices: [], usage: encodeOpenAiUsage(event.usage) });
        break;
    }
  }
  if (finish)
    yield chunk(withRole({}), finish.finishReason, {
      switchboard: switchboardExtension(finish.rawFinishReason, undefined),
    });
  yield "data: [DONE]\n\n";
}
