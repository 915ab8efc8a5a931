import cluster, { type Worker } from "node:cluster";
import type { Logger } from "../shared/logging.js";

/**
 * `switchboard gateway --workers N`: N gateway processes on every core outside Kubernetes, through
 * node:cluster. The primary only forks, restarts a worker that dies, and passes SIGTERM/SIGINT on;
 * each worker is a whole gateway sharing the listening ports. What each worker keeps to itself
 * (docs/consumers.md, "Several workers"): circuits, health, the in-memory limits and cache, metrics.
 */

/**
 * In the primary: forks the workers and keeps them up until a signal, then passes it on; resolves
 * with the exit code once all have exited. A worker that dies before it ever listened (a bad
 * config, a taken port) would die again: then all stop, with code 1.
 */
export function superviseWorkers(count: number, logger: Logger): Promise<number> {
  let stopping = false;
  let code = 0;
  const listened = new Set<Worker>();
  for (let i = 0; i < count; i++) cluster.fork();
  cluster.on("listening", (worker) => listened.add(worker));
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, workers: count }, "stopping the gateway workers");
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      let left = workers.length;
      if (left === 0) return resolve(code);
      for (const worker of workers) {
        worker.once("exit", () => {
          if (--left === 0) resolve(code);
        });
        worker.process.kill(signal);
      }
    };
    cluster.on("exit", (worker: Worker, exitCode, signal) => {
      if (stopping) return;
      if (!listened.has(worker)) {
        logger.error({ worker: worker.process.pid, code: exitCode }, "a gateway worker failed to start");
        code = 1;
        return stop("SIGTERM");
      }
      logger.error(
        { worker: worker.process.pid, code: exitCode, signal },
        "gateway worker exited; starting another",
      );
      cluster.fork();
    });
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
