import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

export interface RedisCommandMonitor {
  /** Runs `work` and returns the commands clients sent meanwhile (not those scripts ran inside Redis). */
  commandsDuring(work: () => Promise<unknown>): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Counts round trips to Redis with MONITOR. MONITOR reports asynchronously, so a measurement starts
 * and ends with an ECHO of a fresh token: once MONITOR shows it, every earlier command has been shown.
 */
export async function monitorRedisCommands(url: string): Promise<RedisCommandMonitor> {
  const marker = new Redis(url);
  await marker.ping();
  const monitor = await new Redis(url).monitor();
  let seen: string[] = [];
  let flushed: { token: string; resolve: () => void } | undefined;
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (flushed && args[0]?.toLowerCase() === "echo" && args[1] === flushed.token) return flushed.resolve();
    if (source !== "lua") seen.push(args[0]!.toLowerCase());
  });
  const flush = () =>
    new Promise<void>((resolve) => {
      const token = randomUUID();
      flushed = { token, resolve };
      void marker.echo(token);
    });
  return {
    async commandsDuring(work) {
      await flush();
      seen = [];
      await work().catch(() => undefined);
      await flush();
      return seen;
    },
    async close() {
      monitor.disconnect();
      await marker.quit();
    },
  };
}
