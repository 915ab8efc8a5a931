import { createHash } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";

/**
 * A tiny OpenAI-compatible server so the README's first command works with no API key: it
 * answers every chat with a labelled echo and embeds text deterministically. It is a demo, not a
 * model; every answer says so.
 */

const LABEL = "[switchboard demo upstream]";

interface DemoMessage {
  role: string;
  content?: string | Array<{ type: string; text?: string }> | null;
}

function lastUserText(messages: DemoMessage[]): string {
  const last = [...messages].reverse().find((m) => m.role === "user");
  if (!last?.content) return "";
  return typeof last.content === "string" ? last.content : last.content.map((p) => p.text ?? "").join("");
}

function answerFor(messages: DemoMessage[]): string {
  return `${LABEL} You said: ${lastUserText(messages)}`;
}

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function embed(text: string, dimensions: number): number[] {
  const vector: number[] = [];
  for (let i = 0; vector.length < dimensions; i++) {
    const digest = createHash("sha256").update(`${i}:${text}`).digest();
    for (let j = 0; j + 4 <= digest.length && vector.length < dimensions; j += 4) {
      vector.push(digest.readInt32BE(j) / 2 ** 31);
    }
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((v) => v / norm);
}

export function createDemoUpstream(): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get("/v1/models", async () => ({
    object: "list",
    data: [
      { id: "demo-chat", object: "model", created: 0, owned_by: "switchboard-demo" },
      { id: "demo-embed", object: "model", created: 0, owned_by: "switchboard-demo" },
    ],
  }));

  app.post("/v1/chat/completions", async (request, reply) => {
    const body = request.body as {
      model: string;
      messages: DemoMessage[];
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    const text = answerFor(body.messages ?? []);
    const promptTokens = tokens(JSON.stringify(body.messages ?? []));
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: tokens(text),
      total_tokens: promptTokens + tokens(text),
    };
    const id = `chatcmpl-demo-${Date.now()}`;
    const created = Math.floor(Date.now() / 1000);
    if (!body.stream) {
      return {
        id,
        object: "chat.completion",
        created,
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
        usage,
      };
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: "assistant", content: "" }, null));
    for (const word of text.split(/(?<= )/)) res.write(chunk({ content: word }, null));
    res.write(chunk({}, "stop"));
    if (body.stream_options?.include_usage) {
      res.write(
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [], usage })}\n\n`,
      );
    }
    res.end("data: [DONE]\n\n");
    return reply;
  });

  app.post("/v1/embeddings", async (request) => {
    const body = request.body as {
      model: string;
      input: string | string[];
      dimensions?: number;
      encoding_format?: string;
    };
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    const dimensions = body.dimensions ?? 256;
    const promptTokens = inputs.reduce((n, t) => n + tokens(t), 0);
    return {
      object: "list",
      model: body.model,
      data: inputs.map((text, index) => {
        const vector = embed(text, dimensions);
        return {
          object: "embedding",
          index,
          embedding:
            body.encoding_format === "base64"
              ? Buffer.from(new Float32Array(vector).buffer).toString("base64")
              : vector,
        };
      }),
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  });
  return app;
}
