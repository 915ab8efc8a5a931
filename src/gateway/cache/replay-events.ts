import type { ChatResponse, ChatStreamEvent } from "../canonical/chat.js";
import { ReasoningAssembler, reasoningEvents } from "../canonical/reasoning-events.js";

/** A whole response as the stream events that would have produced it, for replaying to a streaming client. */
export function eventsFromResponse(response: ChatResponse): ChatStreamEvent[] {
  const events: ChatStreamEvent[] = reasoningEvents(response.reasoning);
  if (response.content) events.push({ type: "text-delta", text: response.content });
  response.toolCalls.forEach((call, index) => {
    events.push({
      type: "tool-call-start",
      index,
      id: call.id,
      name: call.name,
      ...(call.signature ? { signature: call.signature } : {}),
    });
    if (call.arguments) events.push({ type: "tool-call-delta", index, argumentsDelta: call.arguments });
  });
  events.push({
    type: "finish",
    finishReason: response.finishReason,
    rawFinishReason: response.rawFinishReason,
  });
  if (response.usage) events.push({ type: "usage", usage: response.usage });
  return events;
}

/** Assembles a complete stream into a response; undefined when the stream never finished. */
export function responseFromEvents(
  events: readonly ChatStreamEvent[],
  id: string,
  model: string,
): ChatResponse | undefined {
  const response: ChatResponse = {
    id,
    model,
    content: "",
    toolCalls: [],
    finishReason: "stop",
    rawFinishReason: "",
  };
  let finished = false;
  const reasoning = new ReasoningAssembler();
  for (const event of events) {
    if (reasoning.add(event)) continue;
    switch (event.type) {
      case "text-delta":
        response.content += event.text;
        break;
      case "tool-call-start":
        response.toolCalls[event.index] = {
          id: event.id,
          name: event.name,
          arguments: "",
          ...(event.signature ? { signature: event.signature } : {}),
        };
        break;
      case "tool-call-delta": {
        const call = response.toolCalls[event.index];
        if (call) call.arguments += event.argumentsDelta;
        break;
      }
      case "finish":
        finished = true;
        response.finishReason = event.finishReason;
        response.rawFinishReason = event.rawFinishReason;
        break;
      case "usage":
        response.usage = event.usage;
        break;
    }
  }
  if (reasoning.parts.length > 0) response.reasoning = reasoning.parts;
  return finished ? response : undefined;
}
