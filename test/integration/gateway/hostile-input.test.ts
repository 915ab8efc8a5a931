import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";

/**
 * What a hostile or broken client gets: a 4xx in the gateway's own error body for the API it
 * called (never a 5xx, never fastify's or Node's default body), refused before any work that
 * grows with the input, and a slow client cut off at the documented deadlines.
 */

const API = "llm.switchboard.dev/v1alpha1";
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;

let upstream: OpenAiFake;
let gateway: TestGateway;
let port: number;

beforeAll(async () => {
  upstream = await startOpenAiFake({ flavor: "ollama" });
  const docs = [
    {
      apiVersion: API,
      kind: "LLMProvider",
      metadata: { name: "local" },
      spec: {
        type: "openai-compatible",
        endpoint: upstream.baseUrl,
        credentials: { none: {} },
        models: [{ name: "chat", providerModel: "llama3.1:8b" }],
        healthCheck: { probe: "none" },
      },
    },
    {
      apiVersion: API,
      kind: "LLMRoute",
      metadata: { name: "chat" },
      spec: { model: "chat", targets: [{ provider: "local", model: "chat" }] },
    },
  ];
  gateway = await startTestGateway(
    { "config.yaml": docs.map((d) => stringify(d)).join("---\n") },
    { gateway: { limits: { headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS } } },
  );
  port = Number(new URL(gateway.url).port);
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

/** A JSON Schema nested `depth` levels, as text: JSON.stringify itself overflows on 5,000. */
function nested(depth: number): string {
  return `${'{"type":"object","properties":{"x":'.repeat(depth)}{"type":"string"}${"}}".repeat(depth)}`;
}

const messages = [{ role: "user", content: "hi" }];
const DEEP = "__DEEP__";
/** The request as JSON text, with the deep schema spliced in where DEEP stands. */
const withDeep = (body: object, depth = 5_000): string =>
  JSON.stringify(body).replace(`"${DEEP}"`, nested(depth));

interface Seen {
  status: number;
  body: string;
}

async function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Seen> {
  const res = await fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: res.status, body: await res.text() };
}

/** Writes raw bytes on a new connection and reads until the gateway closes it. */
function rawExchange(chunks: string[], gapMs = 0): Promise<{ response: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, "127.0.0.1");
    let response = "";
    let stop = false;
    socket.on("data", (d) => (response += String(d)));
    socket.on("error", reject);
    socket.on("close", () => {
      stop = true;
      resolve({ response, closedAfterMs: performance.now() - started });
    });
    void (async () => {
      for (const chunk of chunks) {
        if (stop) return;
        socket.write(chunk);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

function expectOpenAiError(seen: Seen, status: number, code: string, message: RegExp): void {
  expect(seen.status, seen.body).toBe(status);
  const body = JSON.parse(seen.body) as { error: { code: string; message: string; type: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(message);
}

function expectAnthropicError(seen: Seen, status: number, type: string, message: RegExp): void {
  expect(seen.status, seen.body).toBe(status);
  const body = JSON.parse(seen.body) as { type: string; error: { type: string; message: string } };
  expect(body.type).toBe("error");
  expect(body.error.type).toBe(type);
  expect(body.error.message).toMatch(message);
}

describe("deeply nested JSON", () => {
  it.each([
    [
      "tools[].function.parameters",
      { model: "chat", messages, tools: [{ type: "function", function: { name: "f", parameters: DEEP } }] },
    ],
    [
      "response_format.json_schema.schema",
      {
        model: "chat",
        messages,
        response_format: { type: "json_schema", json_schema: { name: "s", schema: DEEP } },
      },
    ],
  ])("in OpenAI %s is a 400 naming the depth limit", async (_where, body) => {
    expectOpenAiError(
      await post("/v1/chat/completions", withDeep(body)),
      400,
      "invalid_request",
      /deeper than 64 levels/,
    );
  });

  it.each([
    ["/v1/messages", { model: "chat", max_tokens: 16, messages }],
    ["/v1/messages/count_tokens", { model: "chat", messages }],
  ])("in Anthropic tools[].input_schema on %s is a 400 naming the depth limit", async (path, body) => {
    const withTools = { ...body, tools: [{ name: "f", input_schema: DEEP }] };
    expectAnthropicError(
      await post(path, withDeep(withTools)),
      400,
      "invalid_request_error",
      /deeper than 64 levels/,
    );
  });

  it("just under the limit is served", async () => {
    const body = {
      model: "chat",
      messages,
      tools: [{ type: "function", function: { name: "f", parameters: DEEP } }],
    };
    expect((await post("/v1/chat/completions", withDeep(body, 25))).status).toBe(200);
  });
});

describe("bodies that would cost seconds and hundreds of MiB to parse", () => {
  it("8 MB of nested arrays is a 400, and other clients are served meanwhile", async () => {
    const depth = 4 * 1024 * 1024 - 1;
    const hostile = post("/v1/chat/completions", `${"[".repeat(depth)}${"]".repeat(depth)}`);
    const other = post("/v1/chat/completions", JSON.stringify({ model: "chat", messages }));
    expectOpenAiError(await hostile, 400, "invalid_request", /deeper than 64 levels/);
    expect((await other).status).toBe(200);
  });

  it("8 MB of small arrays side by side is a 413 naming the value limit", async () => {
    const wide = `{"model":"chat","messages":[${Array.from({ length: 2_000_000 }, () => "[0]").join(",")}]}`;
    expectOpenAiError(
      await post("/v1/chat/completions", wide),
      413,
      "request_too_large",
      /more than 200000 JSON values/,
    );
  });

  it("a body over the size limit is a 413 in the caller's format", async () => {
    const big = JSON.stringify({
      model: "chat",
      max_tokens: 1,
      messages: [{ role: "user", content: "x".repeat(9e6) }],
    });
    expectAnthropicError(
      await post("/v1/messages", big),
      413,
      "request_too_large",
      /larger than the 8388608 bytes/,
    );
  });
});

describe("requests the HTTP layer refuses", () => {
  const json = JSON.stringify({ model: "chat", messages });

  it.each([
    ["a body shorter than its content-length", `Content-Length: ${json.length + 50}\r\n\r\n${json}`, true],
    ["a body longer than its content-length", `Content-Length: 10\r\n\r\n${json}`, false],
    ["broken chunked framing", `Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n`, false],
    [
      "both content-length and chunked",
      `Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      false,
    ],
  ])("%s gets the gateway's error body", async (_what, rest, halfClose) => {
    const request = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${rest}`;
    const { response } = await rawExchange(halfClose ? [request] : [request, ""]);
    const [head, body] = response.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(JSON.parse(body!)).toMatchObject({ error: { type: "invalid_request_error" } });
  });

  it("oversized headers get a 413 in the gateway's error body", async () => {
    const { response } = await rawExchange([
      `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    ]);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response).toContain('"code":"request_too_large"');
  });

  it("a malformed URL escape gets a 400 in the gateway's error body", async () => {
    const res = await fetch(`${gateway.url}/v1/messages%zz`, { method: "POST", body: "{}" });
    expectAnthropicError(
      { status: res.status, body: await res.text() },
      400,
      "invalid_request_error",
      /URL is not valid/,
    );
  });
});

describe("slow clients", () => {
  it("headers sent a byte at a time are cut off at the headers timeout with a 408", async () => {
    const head =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: ";
    const drip = [...head, ..."a".repeat(200)];
    const served = post("/v1/chat/completions", JSON.stringify({ model: "chat", messages }));
    const { response, closedAfterMs } = await rawExchange(drip, 100);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(response).toContain('"code":"request_timeout"');
    // Cut well before the drip would have ended (20 s), not after Node's default 60 + 30 s.
    expect(closedAfterMs).toBeLessThan(10_000);
    expect((await served).status).toBe(200);
  });

  it("a body sent a byte at a time is cut off at the request timeout with a 408", async () => {
    const body = JSON.stringify({ model: "chat", messages });
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { response, closedAfterMs } = await rawExchange([head, ...body], 200);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeLessThan(body.length * 200);
  });
});
