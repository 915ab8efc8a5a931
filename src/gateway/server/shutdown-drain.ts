/**
 * Graceful shutdown behind a Kubernetes Service. For a while after SIGTERM the gateway keeps
 * serving but reports not ready and answers every request with `Connection: close`, so clients
 * holding keep-alive sockets to this pod reconnect (through the Service, to a pod that stays)
 * instead of sending a request on a socket the closing server is about to drop. Without it a
 * rolling update under load failed requests with "other side closed" (test/e2e/cluster).
 */
export class ShutdownDrain {
  private started = false;

  get draining(): boolean {
    return this.started;
  }

  /** Starts draining and resolves after `delayMs`. */
  async drain(delayMs: number): Promise<void> {
    this.started = true;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
