import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Base of every provider upstream fake: a real HTTP server on loopback that records requests
 * and lets tests inject faults ahead of the provider's normal behaviour.
 */

export interface RecordedRequest {
  method: string;
  /** Path with query string. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json?: unknown;
}

export type Fault =
  /** Answer with this status/body/headers instead of the normal response. */
  | { kind: "status"; status: number; body: unknown; headers?: Record<string, string> }
  /** Answer with this status, headers and body text as they are (SSE streams, bodies that are not JSON). */
  | { kind: "raw"; status: number; body: string; headers?: Record<string, string> }
  /** Destroy the socket before answering. */
  | { kind: "reset" }
  /** Wait before answering normally (slow first byte). */
  | { kind: "delay"; ms: number }
  /** Never answer. */
  | { kind: "hang" };

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  /** Faults consumed one per request, in order, before normal handling. */
  faults: Fault[];
  close(): Promise<void>;
  /** Listens again on the same port after close(): an upstream that was down comes back. */
  restart(): Promise<void>;
}

export type FakeHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export async function startFakeServer(handler: FakeHandler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    let json: unknown;
    try {
      json = body ? JSON.parse(body) : undefined;
    } catch {
      json = undefined;
    }
    const recorded: RecordedRequest = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: req.headers,
      body,
      json,
    };
    requests.push(recorded);
    const fault = faults.shift();
    if (fault?.kind === "reset") return void req.socket.destroy();
    if (fault?.kind === "hang") return;
    if (fault?.kind === "status") return sendJson(res, fault.status, fault.body, fault.headers);
    if (fault?.kind === "raw") return void res.writeHead(fault.status, fault.headers).end(fault.body);
    if (fault?.kind === "delay") await new Promise((r) => setTimeout(r, fault.ms));
    try {
      await handler(recorded, res);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `fake failed: ${String(err)}` } });
      else res.destroy();
    }
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
    restart: () => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve)),
  };
}

/** Writes one SSE event (with optional event name) to a response. */
export function writeSse(res: ServerResponse, data: unknown, event?: string): void {
  res.write(
    `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`,
  );
}
