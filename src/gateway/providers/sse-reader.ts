import { createParser, type EventSourceMessage } from "eventsource-parser";
import { mapTransportError, type UpstreamResponse } from "./upstream-http.js";

/** Yields the Server-Sent Events of an upstream body as they arrive. */
export async function* readSse(
  res: UpstreamResponse,
  providerName: string,
  signal: AbortSignal,
): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => queue.push(event) });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) {
      parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      while (queue.length > 0) yield queue.shift()!;
    }
  } catch (err) {
    throw mapTransportError(err, providerName, signal);
  }
  parser.feed(decoder.decode());
  while (queue.length > 0) yield queue.shift()!;
}
