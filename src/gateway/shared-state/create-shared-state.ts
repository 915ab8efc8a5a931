import type { Logger } from "../../shared/logging.js";
import { MemorySharedState } from "./memory-shared-state.js";
import type { SharedState } from "./shared-state.js";

/** One warning per operation per interval: a Redis outage must not flood the logs. */
const WARN_INTERVAL_MS = 10_000;

/** Redis when a URL is given (checked at startup), per-replica memory otherwise. */
export async function createSharedState(options: {
  redisUrl?: string;
  logger: Logger;
  onError?: (operation: string) => void;
}): Promise<SharedState> {
  if (!options.redisUrl) {
    options.logger.info(
      { stateBackend: "memory" },
      "limits, budgets and the response cache are kept in this replica's memory: with several " +
        "replicas each counts on its own, so every limit and budget is in effect multiplied by the " +
        "number of replicas and the cache is not shared; pass --redis-url to share them",
    );
    return new MemorySharedState();
  }
  // Imported only with a URL: ioredis is a fifth of the gateway's idle memory.
  const { describeRedisUrl, RedisSharedState } = await import("./redis-shared-state.js");
  const lastWarned = new Map<string, number>();
  const state = await RedisSharedState.connect({
    url: options.redisUrl,
    onError: (operation, err) => {
      options.onError?.(operation);
      const now = Date.now();
      if ((lastWarned.get(operation) ?? 0) + WARN_INTERVAL_MS > now) return;
      lastWarned.set(operation, now);
      options.logger.warn(
        { operation, error: (err as Error).message },
        "Redis failed: limits are not enforced and the cache misses until it is back",
      );
    },
  });
  options.logger.info(
    { stateBackend: "redis", redis: describeRedisUrl(options.redisUrl) },
    "limits, budgets and the response cache are shared through Redis by every replica using it",
  );
  return state;
}
