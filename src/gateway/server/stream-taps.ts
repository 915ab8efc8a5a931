import type { ChatStreamEvent } from "../canonical/chat.js";

/** Passes upstream events through, adding the time spent waiting for each to `onWait`. */
export async function* timedUpstream<E = ChatStreamEvent>(
  events: AsyncIterable<E>,
  onWait: (ms: number) => void,
): AsyncGenerator<E> {
  const iterator = events[Symbol.asyncIterator]();
  try {
    for (;;) {
      const started = performance.now();
      const next = await iterator.next();
      onWait(performance.now() - started);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}

/** Passes events through, keeping a copy (for the response cache). */
export async function* collectInto(
  events: AsyncIterable<ChatStreamEvent>,
  sink: ChatStreamEvent[],
): AsyncGenerator<ChatStreamEvent> {
  for await (const event of events) {
    sink.push(event);
    yield event;
  }
}
