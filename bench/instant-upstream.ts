import { serveForBench } from "./serve-for-bench.js";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * An OpenAI-compatible upstream that answers at once, for the gateway-overhead benchmark: run as
 * its own process (`node --import tsx bench/instant-upstream.ts`), it prints `{"port": N}` when
 * listening. Answers are fixed so that the cost measured is the gateway's, not the model's;
 * unlike test/fakes it records nothing, so its memory and CPU stay flat under load.
 * POST /v1/embeddings answers one fixed vector per input (BENCH_EMBEDDING_DIMENSIONS, default
 * 768), base64 when asked, for the migration benchmark. POST /v1/messages answers in Anthropic's
 * format, for the cross-format scenario. A chat stream for a model whose name contains `slow`
 * sends its events SLOW_GAP_MS apart, as a model generating tokens would.
 */

const WORDS = "This is a fixed answer from the instant upstream, eight words".match(/\s*\S+/g)!;
const CONTENT = WORDS.join("");
const USAGE = { prompt_tokens: 24, completion_tokens: WORDS.length, total_tokens: 24 + WORDS.length };

async function readJson(req: IncomingMessage): Promise<{
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  input?: unknown;
  encoding_format?: string;
}> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
}

const SLOW_GAP_MS = 50;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The stream as OpenAI frames it: role, one chunk per word, finish, then usage when asked, `[DONE]`. */
function streamEvents(id: string, model: string, created: number, includeUsage: boolean): string[] {
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    JSON.stringify({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
  const events = [chunk({ role: "assistant", content: "" }, null)];
  for (const word of WORDS) events.push(chunk({ content: word }, null));
  events.push(chunk({}, "stop"));
  if (includeUsage)
    events.push(
      JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage: USAGE }),
    );
  events.push("[DONE]");
  return events.map((data) => `data: ${data}\n\n`);
}

/** Writes the events at once, or SLOW_GAP_MS apart; stops when the client goes away. */
function sendEvents(res: ServerResponse, events: string[], slow: boolean): void {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
  if (!slow) return void res.end(events.join(""));
  let next = 0;
  const tick = () => {
    if (res.destroyed) return;
    res.write(events[next++]);
    if (next < events.length) setTimeout(tick, SLOW_GAP_MS);
    else res.end();
  };
  tick();
}

const anthropicUsage = { input_tokens: USAGE.prompt_tokens, output_tokens: USAGE.completion_tokens };

/** An Anthropic Messages answer, whole or as its event stream. */
function anthropicEvents(id: string, model: string): string[] {
  const event = (type: string, data: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return [
    event("message_start", {
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: USAGE.prompt_tokens, output_tokens: 1 },
      },
    }),
    event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ...WORDS.map((word) =>
      event("content_block_delta", { index: 0, delta: { type: "text_delta", text: word } }),
    ),
    event("content_block_stop", { index: 0 }),
    event("message_delta", {
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: USAGE.completion_tokens },
    }),
    event("message_stop", {}),
  ];
}

function anthropicMessage(id: string, model: string): unknown {
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content: [{ type: "text", text: CONTENT }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: anthropicUsage,
  };
}

const DIMENSIONS = Number(process.env.BENCH_EMBEDDING_DIMENSIONS ?? 768);
const VECTOR = Array.from({ length: DIMENSIONS }, (_, i) =>
  Math.fround(Math.sin(i + 1) / Math.sqrt(DIMENSIONS)),
);
const VECTOR_BASE64 = Buffer.from(new Float32Array(VECTOR).buffer).toString("base64");

function embeddings(body: { model?: string; input?: unknown; encoding_format?: string }): unknown {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const embedding = body.encoding_format === "base64" ? VECTOR_BASE64 : VECTOR;
  return {
    object: "list",
    data: inputs.map((_, index) => ({ object: "embedding", index, embedding })),
    model: body.model ?? "bench-embed",
    usage: { prompt_tokens: inputs.length * 8, total_tokens: inputs.length * 8 },
  };
}

let counter = 0;
const server = createServer((req, res) => {
  const path = req.url?.split("?")[0];
  if (req.method === "GET" && path === "/v1/models") {
    return sendJson(res, 200, {
      object: "list",
      data: [{ id: "bench-model", object: "model", created: 0, owned_by: "bench" }],
    });
  }
  if (req.method === "POST" && path === "/v1/embeddings") {
    return void readJson(req).then(
      (body) => sendJson(res, 200, embeddings(body)),
      () => sendJson(res, 400, { error: { message: "invalid JSON body", type: "invalid_request_error" } }),
    );
  }
  if (req.method === "POST" && path === "/v1/messages") {
    return void readJson(req).then(
      (body) => {
        const id = `msg_bench${++counter}`;
        const model = body.model ?? "bench-claude";
        if (body.stream) return sendEvents(res, anthropicEvents(id, model), false);
        sendJson(res, 200, anthropicMessage(id, model));
      },
      () =>
        sendJson(res, 400, {
          type: "error",
          error: { type: "invalid_request_error", message: "invalid JSON" },
        }),
    );
  }
  if (req.method !== "POST" || path !== "/v1/chat/completions") {
    return sendJson(res, 404, {
      error: { message: `no route ${req.method} ${path}`, type: "invalid_request_error" },
    });
  }
  readJson(req).then(
    (body) => {
      const id = `chatcmpl-bench${++counter}`;
      const model = body.model ?? "bench-model";
      const created = Math.floor(Date.now() / 1000);
      if (body.stream) {
        const events = streamEvents(id, model, created, body.stream_options?.include_usage === true);
        return sendEvents(res, events, model.includes("slow"));
      }
      sendJson(res, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: CONTENT, refusal: null },
            logprobs: null,
            finish_reason: "stop",
          },
        ],
        usage: USAGE,
      });
    },
    () => sendJson(res, 400, { error: { message: "invalid JSON body", type: "invalid_request_error" } }),
  );
});
serveForBench(server);
