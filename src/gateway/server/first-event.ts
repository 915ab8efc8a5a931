import type { ChatStreamEvent } from "../canonical/chat.js";
import { GatewayError } from "../../shared/errors.js";

export interface PrimedStream<E = ChatStreamEvent> {
  events: AsyncIterable<E>;
  /** Stops the upstream stream early (client gone). */
  cancel(): Promise<void>;
}

/**
 * Opens an upstream stream and waits for its first event, both within one time-to-first-token
 * deadline counted from the attempt's start, so errors before it (including error events inside
 * a 200 stream) can still fail over; then replays that event. On timeout the caller's attempt
 * is failed, which aborts the upstream request.
 */
export async function primeStream<E = ChatStreamEvent>(
  open: () => Promise<AsyncIterable<E>>,
  firstTokenMs: number,
  providerId: string,
): Promise<PrimedStream<E>> {
  let iterator: AsyncIterator<E> | undefined;
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
  const firstEvent = async (): Promise<IteratorResult<E>> => {
    iterator = (await open())[Symbol.asyncIterator]();
    return iterator.next();
  };
  let first: IteratorResult<E>;
  try {
    first = await Promise.race([firstEvent(), deadline]);
  } catch (err) {
    void iterator?.return?.();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const opened = iterator!;
  async function* replay(): AsyncGenerator<E> {
    if (first.done) return;
    yield first.value;
    for (;;) {
      const next = await opened.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return {
    events: replay(),
    cancel: async () => {
      await opened.return?.();
    },
  };
}
