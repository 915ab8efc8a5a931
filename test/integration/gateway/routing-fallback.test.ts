import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";
import { startFakeServer, writeSse, type FakeServer } from "../../fakes/fake-http-server.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import {
  ANTHROPIC_KEY,
  OPENAI_KEY,
  chat,
  chatCalls,
  holdAfterHeaders,
  manifests,
  streamedErrors,
  streamedText,
  type RouteSpec,
} from "./routing-support.js";

/**
 * Fault injection through the upstream fakes, against a real gateway: which upstream each
 * request reached, in which order, how long it took, and that the client got exactly one answer.
 */

let primary: OpenAiFake;
let secondary: OpenAiFake;
let claude: FakeServer;
let slowAfterHeaders: FakeServer;
let resetMidStream: FakeServer;
let slowHeaders: FakeServer;
/** Requests to slowHeaders whose connection the gateway closed before they were answered. */
let abandonedSlowHeaders = 0;
let abandonedSlowAfterHeaders = 0;
let gateway: TestGateway;

const openaiChunk = (content: string) => ({
  id: "chatcmpl-mid",
  object: "chat.completion.chunk",
  created: 1_700_000_000,
  model: "gpt-4o-mini",
  choices: [{ index: 0, delta: { role: "assistant", content }, finish_reason: null }],
});

/** A route named after its model: `provider`'s "chat" first, then secondary's. */
const thenSecondary = (model: string, provider: string): RouteSpec => ({
  name: model,
  model,
  targets: [
    { provider, model: "chat" },
    { provider: "secondary", model: "chat" },
  ],
});

beforeAll(async () => {
  primary = await startOpenAiFake({ apiKey: OPENAI_KEY });
  secondary = await startOpenAiFake({ apiKey: OPENAI_KEY });
  claude = await startAnthropicFake({ apiKey: ANTHROPIC_KEY });
  slowAfterHeaders = await startFakeServer(async (_req, res) => {
    res.once("close", () => {
      if (!res.writableEnded) abandonedSlowAfterHeaders++;
    });
    await holdAfterHeaders(res, 3000);
    if (!res.destroyed) res.end();
  });
  slowHeaders = await startFakeServer(async (_req, res) => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3000);
      res.once("close", () => {
        clearTimeout(timer);
        abandonedSlowHeaders++;
        resolve();
      });
    });
    if (!res.destroyed) res.end();
  });
  resetMidStream = await startFakeServer(async (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    writeSse(res, openaiChunk("partial answer"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    res.destroy();
  });
  const fast = { firstToken: "400ms", total: "5s" };
  gateway = await startTestGateway(
    manifests(
      [
        // A high threshold: these tests look at fallback, not at circuits (routing-circuits.test.ts).
        {
          name: "primary",
          type: "openai",
          endpoint: primary.baseUrl,
          timeouts: fast,
          circuitBreaker: { failureThreshold: 100 },
        },
        // The same upstream with a total deadline shorter than its first-token deadline.
        {
          name: "tight",
          type: "openai",
          endpoint: primary.baseUrl,
          timeouts: { firstToken: "10s", total: "500ms" },
        },
        { name: "secondary", type: "openai", endpoint: secondary.baseUrl, timeouts: fast },
        { name: "claude", type: "anthropic", endpoint: claude.url, timeouts: fast },
        { name: "slow", type: "openai", endpoint: `${slowAfterHeaders.url}/v1`, timeouts: fast },
        { name: "slowheaders", type: "openai", endpoint: `${slowHeaders.url}/v1`, timeouts: fast },
        { name: "flaky", type: "openai", endpoint: `${resetMidStream.url}/v1`, timeouts: fast },
      ],
      [
        { ...thenSecondary("main", "primary"), retries: { attempts: 1, backoff: "10ms", maxBackoff: "3s" } },
        thenSecondary("deadline", "tight"),
        thenSecondary("claude-first", "claude"),
        thenSecondary("slow-first", "slow"),
        thenSecondary("slow-headers-first", "slowheaders"),
        thenSecondary("flaky-first", "flaky"),
        { ...thenSecondary("strict", "primary"), fallback: { onErrors: ["rate_limit"] } },
      ],
    ),
  );
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all(
    [primary, secondary, claude, slowAfterHeaders, resetMidStream, slowHeaders].map((f) => f?.close()),
  );
});

beforeEach(() => {
  for (const fake of [primary, secondary, claude, slowAfterHeaders, resetMidStream]) {
    fake.requests.length = 0;
    fake.faults.length = 0;
  }
});

const unavailable = {
  kind: "status" as const,
  status: 503,
  body: { error: { message: "The server is overloaded", type: "server_error", param: null, code: null } },
};

describe("fallback under upstream faults", () => {
  it("5xx burst: retries the primary once, then fails over; headers name the target and attempts", async () => {
    primary.faults.push(unavailable, unavailable);
    const reply = await chat(gateway.url, "main", "hello");
    expect(reply.status).toBe(200);
    expect(
      (reply.body as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content,
    ).toBe("You said: hello");
    expect(reply.headers.get("x-switchboard-provider")).toBe("default/secondary");
    expect(reply.headers.get("x-switchboard-route")).toBe("default/main");
    expect(reply.headers.get("x-switchboard-attempts")).toBe("3");
    expect(reply.headers.get("x-switchboard-fallback")).toBe("true");
    expect(chatCalls(primary.requests)).toHaveLength(2);
    expect(chatCalls(secondary.requests)).toHaveLength(1);
  });

  it("connection reset before the response fails over", async () => {
    primary.faults.push({ kind: "reset" }, { kind: "reset" });
    const reply = await chat(gateway.url, "main", "reset please", { stream: true });
    expect(reply.status).toBe(200);
    expect(streamedText(reply.text)).toBe("You said: reset please");
    expect(reply.headers.get("x-switchboard-provider")).toBe("default/secondary");
    expect(chatCalls(primary.requests)).toHaveLength(2);
  });

  it("slow first byte: the first-token deadline cuts the attempt and the request fails over", async () => {
    primary.faults.push({ kind: "delay", ms: 2000 }, { kind: "delay", ms: 2000 });
    const reply = await chat(gateway.url, "main", "are you there", { stream: true });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("x-switchboard-provider")).toBe("default/secondary");
    // Two 400 ms deadlines plus a short backoff; undici checks its header timeout on a timer
    // with about 1 s resolution, so each may fire up to ~1 s late. Waiting it out would take 4 s.
    expect(reply.ms).toBeGreaterThanOrEqual(790);
    expect(reply.ms).toBeLessThan(3000);
    expect(chatCalls(primary.requests)).toHaveLength(2);
    expect(chatCalls(secondary.requests)).toHaveLength(1);
  });

  it("slow first token after the headers: the stream is held, then fails over before the client sees a byte", async () => {
    const reply = await chat(gateway.url, "slow-first", "first token please", { stream: true });
    expect(reply.status).toBe(200);
    expect(streamedText(reply.text)).toBe("You said: first token please");
    expect(streamedErrors(reply.text)).toEqual([]);
    expect(reply.headers.get("x-switchboard-attempts")).toBe("2");
    expect(chatCalls(slowAfterHeaders.requests)).toHaveLength(1);
    expect(reply.ms).toBeGreaterThanOrEqual(390);
    expect(reply.ms).toBeLessThan(2500);
    // The abandoned upstream stream is closed at once, not left open until its idle deadline.
    await expect.poll(() => abandonedSlowAfterHeaders, { timeout: 1500 }).toBe(1);
  });

  it("slow headers: one first-token deadline covers headers and first event, and the abandoned request is closed", async () => {
    const reply = await chat(gateway.url, "slow-headers-first", "headers please", { stream: true });
    expect(reply.status).toBe(200);
    expect(streamedText(reply.text)).toBe("You said: headers please");
    expect(reply.headers.get("x-switchboard-attempts")).toBe("2");
    expect(reply.ms).toBeGreaterThanOrEqual(390);
    expect(reply.ms).toBeLessThan(1000);
    await expect.poll(() => abandonedSlowHeaders).toBe(1);
  });

  it("hung upstream: the total deadline ends the attempt", async () => {
    primary.faults.push({ kind: "hang" });
    const reply = await chat(gateway.url, "deadline", "hello hang");
    expect(reply.status).toBe(200);
    expect(reply.headers.get("x-switchboard-provider")).toBe("default/secondary");
    expect(reply.headers.get("x-switchboard-attempts")).toBe("2");
    expect(chatCalls(primary.requests)).toHaveLength(1);
    expect(reply.ms).toBeGreaterThanOrEqual(490);
    expect(reply.ms).toBeLessThan(1500);
  });

  it("an error event inside a 200 stream before any content fails over", async () => {
    const reply = await chat(gateway.url, "claude-first", "TRIGGER_EARLY_STREAM_ERROR then answer", {
      stream: true,
    });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("x-switchboard-provider")).toBe("default/secondary");
    expect(streamedText(reply.text)).toBe("You said: TRIGGER_EARLY_STREAM_ERROR then answer");
    expect(streamedErrors(reply.text)).toEqual([]);
    expect(chatCalls(claude.requests)).toHaveLength(1);
  });

  it("an error event after content ends the stream with an error event: no failover once bytes went out", async () => {
    const reply = await chat(gateway.url, "main", "TRIGGER_STREAM_ERROR now", { stream: true });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("x-switchboard-provider")).toBe("default/primary");
    expect(reply.headers.get("x-switchboard-fallback")).toBeNull();
    expect(streamedText(reply.text).length).toBeGreaterThan(0);
    const errors = streamedErrors(reply.text);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe("upstream_unavailable");
    expect(chatCalls(secondary.requests)).toHaveLength(0);
  });

  it("a connection reset mid-stream ends the stream with an error event", async () => {
    const reply = await chat(gateway.url, "flaky-first", "go", { stream: true });
    expect(reply.status).toBe(200);
    expect(reply.headers.get("x-switchboard-provider")).toBe("default/flaky");
    expect(streamedText(reply.text)).toBe("partial answer");
    expect(streamedErrors(reply.text)).toHaveLength(1);
    expect(reply.text).not.toContain("[DONE]");
    expect(chatCalls(secondary.requests)).toHaveLength(0);
  });

  it("does not fail over on classes the route does not name, nor on the client's mistakes", async () => {
    primary.faults.push(unavailable);
    const strict = await chat(gateway.url, "strict", "hi");
    expect(strict.status).toBe(503);
    expect(chatCalls(secondary.requests)).toHaveLength(0);

    // context_length_exceeded is not in main's fallback.on (the default): the upstream's 400 is final.
    const tooLong = await chat(gateway.url, "main", "TRIGGER_CONTEXT_LENGTH");
    expect(tooLong.status).toBe(400);
    expect((tooLong.body as { error: { code: string } }).error.code).toBe("context_length_exceeded");
    expect(chatCalls(primary.requests)).toHaveLength(2);
    expect(chatCalls(secondary.requests)).toHaveLength(0);
  });

  it("429 storm with Retry-After: waits it out once, fails over, then sends nobody to the primary until it passes", async () => {
    const tooMany = {
      kind: "status" as const,
      status: 429,
      headers: { "retry-after": "1" },
      body: {
        error: {
          message: "Rate limit reached for requests",
          type: "requests",
          param: null,
          code: "rate_limit_exceeded",
        },
      },
    };
    primary.faults.push(...Array.from({ length: 20 }, () => tooMany));
    const first = await chat(gateway.url, "main", "storm 1");
    expect(first.status).toBe(200);
    expect(first.headers.get("x-switchboard-attempts")).toBe("3");
    expect(first.ms).toBeGreaterThanOrEqual(990);
    expect(chatCalls(primary.requests)).toHaveLength(2);

    const during = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => chat(gateway.url, "main", `storm during ${i}`)),
    );
    expect(during.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(during.map((r) => r.headers.get("x-switchboard-attempts"))).toEqual(["1", "1", "1", "1", "1"]);
    expect(chatCalls(primary.requests)).toHaveLength(2);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    primary.faults.length = 0;
    const after = await chat(gateway.url, "main", "storm over");
    expect(after.headers.get("x-switchboard-provider")).toBe("default/primary");
  });
});
