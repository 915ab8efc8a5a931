import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Serves a bench/ script's server on a free loopback port, printing `{"port": N}` once listening
 * (what startScript waits for), and closes it on SIGTERM.
 */
export function serveForBench(server: Server): void {
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  process.once("SIGTERM", () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
