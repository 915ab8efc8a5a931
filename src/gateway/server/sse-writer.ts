import type { ServerResponse } from "node:http";

const KEEP_ALIVE_MS = 15_000;

/**
 * Writes SSE frames with backpressure and sends comment keep-alives while the upstream is
 * silent, so proxies and clients don't drop long-thinking streams.
 */
export class SseWriter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    headers: Record<string, string>,
  ) {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      ...headers,
    });
    res.flushHeaders();
    this.arm();
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.res.writableEnded) {
        this.res.write(": keep-alive\n\n");
        this.arm();
      }
    }, KEEP_ALIVE_MS);
    this.timer.unref();
  }

  async write(frame: string): Promise<void> {
    this.arm();
    if (!this.res.write(frame)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.res.off("drain", done);
          this.res.off("close", done);
          resolve();
        };
        this.res.on("drain", done);
        this.res.on("close", done);
      });
    }
  }

  end(): void {
    clearTimeout(this.timer);
    if (!this.res.writableEnded) this.res.end();
  }
}
