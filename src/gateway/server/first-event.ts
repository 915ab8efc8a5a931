import type { ChatStreamEvent } from "../canonical/chat.js";
import { GatewayError } from "../../shared/errors.js";

export interface PrimedStream {
  events: AsyncIterable<ChatStreamEvent>;
  /** Stops the upstream stream early (client gone). */
  cancel(): Promise<void>;
}

/**
 * Waits for the first upstream event within the time-to-first-token deadline, so errors before
 * it (including error events inside a 200 stream) can still fail over; then replays it.
 */
export async function primeStream(
  stream: AsyncIterable<ChatStreamEvent>,
  firstTokenMs: number,
  providerId: string,
): Promise<PrimedStream> {
  const iterator = stream[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new GatewayError("timeout", `${providerId} sent no first token within ${firstTokenMs} ms`, {
            provider: providerId,
          }),
        ),
      firstTokenMs,
    );
  });
  let first: IteratorResult<ChatStreamEvent>;
  try {
    first = await Promise.race([iterator.next(), deadline]);
  } catch (err) {
    void iterator.return?.();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  async function* replay(): AsyncGenerator<ChatStreamEvent> {
    if (first.done) return;
    yield first.value;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return {
    events: replay(),
    cancel: async () => {
      await iterator.return?.();
    },
  };
}
