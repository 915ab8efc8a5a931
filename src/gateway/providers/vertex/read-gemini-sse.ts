import type { EventSourceMessage } from "eventsource-parser";
import { readSse } from "../sse-reader.js";
import type { UpstreamResponse } from "../upstream-http.js";

/**
 * Reads `streamGenerateContent?alt=sse`. Besides `data:` events, Vertex may abort a 200 stream by
 * writing a (pretty-printed) JSON error object outside SSE framing; those lines are collected and,
 * once they form a JSON value, yielded as one more event so the stream mapper sees the error.
 */
export function readGeminiSse(
  res: UpstreamResponse,
  providerName: string,
  signal: AbortSignal,
): AsyncGenerator<EventSourceMessage> {
  let bare = "";
  return readSse(res, providerName, signal, {
    closeLastEvent: true,
    onError: (error, push) => {
      if (error.type !== "unknown-field" || (bare === "" && !error.line?.trimStart().startsWith("{"))) return;
      bare += `${error.line ?? ""}\n`;
      try {
        JSON.parse(bare);
      } catch {
        return;
      }
      push({ data: bare, event: undefined, id: undefined });
      bare = "";
    },
  });
}
