import { createParser, type EventSourceMessage, type ParseError } from "eventsource-parser";
import { mapTransportError, type UpstreamResponse } from "./upstream-http.js";

export interface SseReadOptions {
  /** Sees what breaks SSE framing (e.g. bare lines); `push` queues an event of its own. */
  onError?: (error: ParseError, push: (event: EventSourceMessage) => void) => void;
  /** Ends the body with a blank line, so a last event (or line) the upstream left open is read too. */
  closeLastEvent?: boolean;
}

/** Yields the Server-Sent Events of an upstream body as they arrive. */
export async function* readSse(
  res: UpstreamResponse,
  providerName: string,
  signal: AbortSignal,
  options: SseReadOptions = {},
): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  const push = (event: EventSourceMessage) => void queue.push(event);
  const { onError } = options;
  const parser = createParser({ onEvent: push, onError: onError && ((error) => onError(error, push)) });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) {
      parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      while (queue.length > 0) yield queue.shift()!;
    }
  } catch (err) {
    throw mapTransportError(err, providerName, signal);
  }
  parser.feed(`${decoder.decode()}${options.closeLastEvent ? "\n\n" : ""}`);
  while (queue.length > 0) yield queue.shift()!;
}
