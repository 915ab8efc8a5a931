import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { OPENAI_KEY, chat, chatCalls, manifests } from "./routing-support.js";

/** Strategies and the capability filter, seen from a client of a real gateway. */

let x: OpenAiFake;
let y: OpenAiFake;
let gateway: TestGateway;

const both = () => [
  { provider: "x", model: "chat" },
  { provider: "y", model: "chat" },
];
const weighted = (xWeight: number, yWeight: number) => [
  { provider: "x", model: "chat", weight: xWeight },
  { provider: "y", model: "chat", weight: yWeight },
];

beforeAll(async () => {
  x = await startOpenAiFake({ apiKey: OPENAI_KEY });
  y = await startOpenAiFake({ apiKey: OPENAI_KEY });
  gateway = await startTestGateway(
    manifests(
      [
        {
          name: "x",
          type: "openai",
          endpoint: x.baseUrl,
          models: [
            {
              name: "chat",
              providerModel: "gpt-4o-mini",
              contextWindow: 2000,
              maxOutputTokens: 1000,
              pricing: { inputPer1M: 1, outputPer1M: 8 },
            },
            { name: "embed", providerModel: "text-embedding-3-small", kind: "embedding", dimensions: 256 },
          ],
        },
        {
          name: "y",
          type: "openai",
          endpoint: y.baseUrl,
          models: [
            {
              name: "chat",
              providerModel: "gpt-4o-mini",
              contextWindow: 4000,
              maxOutputTokens: 4000,
              supportsTools: false,
              pricing: { inputPer1M: 4, outputPer1M: 2 },
            },
          ],
        },
      ],
      [
        { name: "rr", model: "rr", strategy: "round-robin", targets: both() },
        { name: "weighted", model: "weighted", strategy: "weighted", targets: weighted(1, 3) },
        { name: "fastest", model: "fastest", strategy: "least-latency", targets: both() },
        { name: "cheapest", model: "cheapest", strategy: "lowest-cost", targets: both() },
        { name: "embed", model: "embed", targets: [{ provider: "x", model: "embed" }] },
      ],
    ),
  );
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([x, y].map((f) => f?.close()));
});

beforeEach(() => {
  for (const fake of [x, y]) {
    fake.requests.length = 0;
    fake.faults.length = 0;
  }
});

const providerOf = (reply: { headers: Headers }) => reply.headers.get("x-switchboard-provider");

describe("strategies", () => {
  it("round-robin alternates between targets", async () => {
    const seen: Array<string | null> = [];
    for (let i = 0; i < 4; i++) seen.push(providerOf(await chat(gateway.url, "rr", `rr ${i}`)));
    expect(new Set([seen[0], seen[1]])).toEqual(new Set(["default/x", "default/y"]));
    expect(seen[2]).toBe(seen[0]);
    expect(seen[3]).toBe(seen[1]);
  });

  it("weighted sends traffic in proportion to weight", async () => {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => chat(gateway.url, "weighted", `w ${i}`)),
    );
    const toY = replies.filter((r) => providerOf(r) === "default/y").length;
    // Weight 3 of 4: 150 expected; the bounds are more than 5 standard deviations wide.
    expect(toY).toBeGreaterThan(115);
    expect(toY).toBeLessThan(185);
  });

  it("least-latency moves traffic to the faster target", async () => {
    x.faults.push(...Array.from({ length: 200 }, () => ({ kind: "delay" as const, ms: 60 })));
    for (let i = 0; i < 10; i++) await chat(gateway.url, "fastest", `warm ${i}`);
    y.requests.length = 0;
    x.requests.length = 0;
    for (let i = 0; i < 60; i++) await chat(gateway.url, "fastest", `measure ${i}`);
    expect(chatCalls(y.requests).length).toBeGreaterThanOrEqual(50);
    // The rest is exploration (about 5%) re-measuring the slow target; nothing is sent twice.
    expect(chatCalls(x.requests).length + chatCalls(y.requests).length).toBe(60);
  });

  it("lowest-cost picks the cheapest target for this request's token mix", async () => {
    // x costs input + 8 × output, y 4 × input + 2 × output (per 1M): x is cheaper when the prompt
    // is more than twice the answer.
    const longPrompt = "word ".repeat(400); // about 500 tokens
    expect(providerOf(await chat(gateway.url, "cheapest", longPrompt, { extra: { max_tokens: 10 } }))).toBe(
      "default/x",
    );
    expect(providerOf(await chat(gateway.url, "cheapest", "hi", { extra: { max_tokens: 900 } }))).toBe(
      "default/y",
    );
  });
});

describe("capability filter before any call", () => {
  it("skips targets that cannot take tools", async () => {
    const tools = [
      { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: {} } } },
    ];
    for (let i = 0; i < 2; i++) {
      const reply = await chat(gateway.url, "rr", "weather in Paris?", { extra: { tools } });
      expect(reply.status).toBe(200);
      expect(providerOf(reply)).toBe("default/x");
    }
    expect(chatCalls(y.requests)).toHaveLength(0);
  });

  it("keeps prompts out of windows too small for them, and says so when none fits", async () => {
    const long = "word ".repeat(2400); // about 3000 tokens by the gateway's estimate
    expect(providerOf(await chat(gateway.url, "rr", long))).toBe("default/y");
    expect(providerOf(await chat(gateway.url, "rr", long))).toBe("default/y");
    const tooLong = await chat(gateway.url, "rr", "word ".repeat(4000));
    expect(tooLong.status).toBe(400);
    const error = (tooLong.body as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("context_length_exceeded");
    expect(error.message).toContain("default/x/chat has a 2000-token context window");
    expect(error.message).toContain("default/y/chat has a 4000-token context window");
    expect(chatCalls(x.requests).length + chatCalls(y.requests).length).toBe(2);
  });

  it("refuses embedding dimensions the model cannot produce without calling it", async () => {
    const res = await fetch(`${gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "embed", input: "hello", dimensions: 512 }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { param: string; message: string } };
    expect(body.error.param).toBe("dimensions");
    expect(body.error.message).toContain(
      "default/x/embed produces 256 dimensions, fewer than the 512 requested",
    );
    expect(x.requests).toHaveLength(0);
    const ok = await fetch(`${gateway.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "embed", input: "hello", dimensions: 128 }),
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { data: Array<{ embedding: number[] }> }).data[0]!.embedding).toHaveLength(
      128,
    );
  });
});
