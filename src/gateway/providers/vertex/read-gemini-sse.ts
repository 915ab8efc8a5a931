import { createParser, type EventSourceMessage } from "eventsource-parser";
import { mapTransportError, type UpstreamResponse } from "../upstream-http.js";

/**
 * Reads `streamGenerateContent?alt=sse`. Besides `data:` events, Vertex may abort a 200 stream by
 * writing a (pretty-printed) JSON error object outside SSE framing; those lines are collected and,
 * once they form a JSON value, yielded as one more event so the stream mapper sees the error.
 */
export async function* readGeminiSse(
  res: UpstreamResponse,
  providerName: string,
  signal: AbortSignal,
): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  let bare = "";
  const parser = createParser({
    onEvent: (event) => queue.push(event),
    onError: (error) => {
      if (error.type !== "unknown-field" || (bare === "" && !error.line?.trimStart().startsWith("{"))) return;
      bare += `${error.line ?? ""}\n`;
      try {
        JSON.parse(bare);
      } catch {
        return;
      }
      queue.push({ data: bare, event: undefined, id: undefined });
      bare = "";
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) {
      parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      while (queue.length > 0) yield queue.shift()!;
    }
  } catch (err) {
    throw mapTransportError(err, providerName, signal);
  }
  parser.feed(`${decoder.decode()}\n\n`);
  while (queue.length > 0) yield queue.shift()!;
}
