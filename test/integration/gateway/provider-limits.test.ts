import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startFakeServer, writeSse, type FakeServer } from "../../fakes/fake-http-server.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { chatBody, docs, provider, route } from "./traffic-manifests.js";

/** LLMProvider spec.limits as clients see them: 429 + Retry-After, or a fallback when the route allows. */

let main: OpenAiFake;
let spare: OpenAiFake;
let slow: FakeServer;
let gateway: TestGateway;

const chatCalls = (fake: FakeServer) =>
  fake.requests.filter((r) => r.url.endsWith("/chat/completions")).length;
const chat = (model: string, text = "hello", extra: Record<string, unknown> = {}) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: chatBody(text, { model, ...extra }),
  });

/** An OpenAI-style upstream that streams fifteen words, one every 100 ms (streaming requests only). */
async function startSlowStreamer(): Promise<FakeServer> {
  return startFakeServer(async (req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = (delta: object, finish: string | null) => ({
      id: "chatcmpl-slow",
      object: "chat.completion.chunk",
      created: 0,
      model: "slow",
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    writeSse(res, chunk({ role: "assistant", content: "" }, null));
    for (let i = 0; i < 15; i++) {
      writeSse(res, chunk({ content: `w${i} ` }, null));
      await new Promise((r) => setTimeout(r, 100));
    }
    writeSse(res, chunk({}, "stop"));
    writeSse(res, "[DONE]");
    res.end();
    void req;
  });
}

beforeAll(async () => {
  main = await startOpenAiFake({ flavor: "vllm" });
  spare = await startOpenAiFake({ flavor: "vllm" });
  slow = await startSlowStreamer();
  const noRetries = { attempts: 0 };
  gateway = await startTestGateway({
    "all.yaml": docs(
      provider("rpm-limited", main.baseUrl, [{ name: "m" }], { limits: { requestsPerMinute: 2 } }),
      provider("one-a-minute", main.baseUrl, [{ name: "m" }], { limits: { requestsPerMinute: 1 } }),
      provider("tpm-limited", main.baseUrl, [{ name: "m", maxOutputTokens: 40 }], {
        limits: { tokensPerMinute: 300 },
      }),
      provider("spare", spare.baseUrl, [{ name: "m" }]),
      provider("single-lane", `${slow.url}/v1`, [{ name: "m" }], { limits: { maxConcurrency: 1 } }),
      route("rpm-chat", { targets: [{ provider: "rpm-limited", model: "m" }], retries: noRetries }),
      route("tpm-chat", { targets: [{ provider: "tpm-limited", model: "m" }], retries: noRetries }),
      route("fallback-chat", {
        targets: [
          { provider: "one-a-minute", model: "m" },
          { provider: "spare", model: "m" },
        ],
        fallback: { onErrors: ["rate_limit"] },
      }),
      route("lane-chat", { targets: [{ provider: "single-lane", model: "m" }], retries: noRetries }),
    ),
  });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([main?.close(), spare?.close(), slow?.close()]);
});

describe("provider limits", () => {
  it("answers 429 with Retry-After past requestsPerMinute, without calling the upstream", async () => {
    const before = chatCalls(main);
    expect((await chat("rpm-chat")).status).toBe(200);
    expect((await chat("rpm-chat")).status).toBe(200);
    const limited = await chat("rpm-chat");
    expect(limited.status).toBe(429);
    // 2 per minute: the next request fits in 30 s.
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(29);
    expect(retryAfter).toBeLessThanOrEqual(30);
    const body = (await limited.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.message).toContain("default/rpm-limited");
    expect(chatCalls(main) - before).toBe(2);
  });

  it("refuses a request whose estimated tokens exceed what is left of tokensPerMinute", async () => {
    // ~250 estimated prompt tokens and up to 40 for the answer: the first fits in 300, the second does not.
    const prompt = "x".repeat(1_000);
    expect((await chat("tpm-chat", prompt)).status).toBe(200);
    const limited = await chat("tpm-chat", prompt);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { message: string } }).error.message).toContain(
      "tokens per minute",
    );
  });

  it("falls back to the next target when the first is at its limit", async () => {
    const first = await chat("fallback-chat");
    expect(first.headers.get("x-switchboard-provider")).toBe("default/one-a-minute");
    const spareBefore = chatCalls(spare);
    const second = await chat("fallback-chat", "second");
    expect(second.status).toBe(200);
    expect(second.headers.get("x-switchboard-provider")).toBe("default/spare");
    expect(
      ((await second.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message
        .content,
    ).toBe("You said: second");
    expect(chatCalls(spare) - spareBefore).toBe(1);
  });

  it("holds a maxConcurrency slot for the whole stream and frees it at the end", async () => {
    const streaming = await chat("lane-chat", "long", { stream: true });
    expect(streaming.status).toBe(200);
    const busy = await chat("lane-chat", "meanwhile", { stream: true });
    expect(busy.status).toBe(429);
    expect(busy.headers.get("retry-after")).toBe("1");
    expect(((await busy.json()) as { error: { message: string } }).error.message).toContain("maxConcurrency");
    const text = await streaming.text();
    expect(text).toContain("w14");
    expect(text).toContain("[DONE]");
    const after = await chat("lane-chat", "after", { stream: true });
    expect(after.status).toBe(200);
    expect(await after.text()).toContain("[DONE]");
  });

  it("counts refusals in switchboard_rate_limited_total", async () => {
    const metrics = await (await fetch(`${gateway.adminUrl!}/metrics`)).text();
    expect(metrics).toMatch(
      /switchboard_rate_limited_total\{scope="provider",route="default\/rpm-chat",provider="default\/rpm-limited"\} 1/,
    );
    expect(metrics).toMatch(
      /switchboard_rate_limited_total\{scope="provider",route="default\/fallback-chat",provider="default\/one-a-minute"\} 1/,
    );
  });
});
