import { serveForBench } from "./serve-for-bench.js";
import { createServer, type IncomingMessage } from "node:http";
import { Pool } from "undici";

/**
 * The floor a Node gateway can reach, for the peers benchmark: parse the JSON body, forward it
 * through an undici pool, parse and re-serialise a JSON answer (streams are piped as they come);
 * nothing else. Run as its own process with BENCH_UPSTREAM=<origin>; prints `{"port": N}`.
 */

const pool = new Pool(process.env.BENCH_UPSTREAM!, { connections: 256, keepAliveTimeout: 30_000 });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const server = createServer((req, res) => {
  void (async () => {
    const body = JSON.parse(await readBody(req)) as { stream?: boolean };
    const upstream = await pool.request({
      method: "POST",
      path: req.url!,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (body.stream) {
      res.writeHead(upstream.statusCode, { "content-type": "text/event-stream" });
      for await (const chunk of upstream.body) res.write(chunk);
      return void res.end();
    }
    const text = JSON.stringify(await upstream.body.json());
    res.writeHead(upstream.statusCode, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  })().catch(() => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
});
serveForBench(server);
