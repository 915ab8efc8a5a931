import { createServer } from "node:http";
import { serveForBench } from "./serve-for-bench.js";

/**
 * An OpenAI-compatible upstream whose chat streams are slow, as a model's are: one word every
 * BENCH_GAP_MS (default 1000), BENCH_WORDS words (default 30), then finish, usage and `[DONE]`.
 * Run as its own process for the stream-memory benchmark; it keeps nothing per request.
 */

const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 1000);
const WORDS = Number(process.env.BENCH_WORDS ?? 30);

const chunk = (delta: object, finish: string | null, usage?: object) =>
  `data: ${JSON.stringify({
    id: "chatcmpl-slow",
    object: "chat.completion.chunk",
    created: 0,
    model: "bench-slow",
    choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }],
    ...(usage ? { usage } : {}),
  })}\n\n`;

const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(chunk({ role: "assistant", content: "" }, null));
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      if (sent++ < WORDS) return void res.write(chunk({ content: ` word${sent}` }, null));
      clearInterval(timer);
      res.write(chunk({}, "stop"));
      res.write(chunk({}, null, { prompt_tokens: 12, completion_tokens: WORDS, total_tokens: 12 + WORDS }));
      res.end("data: [DONE]\n\n");
    }, GAP_MS);
    res.on("close", () => clearInterval(timer));
  });
});
serveForBench(server);
