import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { chatBody, docs, provider, route, secret } from "./traffic-manifests.js";

/** Per-request accounting: the access-log line and the Prometheus metrics. */

const UPSTREAM_KEY = "sk-accounting-upstream-5e5e5e5e";
const PRICING = { inputPer1M: 2.5, outputPer1M: 10 };
let openai: OpenAiFake;
let ollama: OpenAiFake;
let gateway: TestGateway;

const post = (path: string, body: string) =>
  fetch(`${gateway.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });

interface LogLine {
  msg: string;
  route?: string;
  stream?: boolean;
  inputTokens?: number;
  outputTokens?: number;
  usageEstimated?: boolean;
  costUsd?: number;
  durationMs?: number;
  ttftMs?: number;
  outcome?: string;
}
const requestLogs = (routeId: string) =>
  gateway.logs.map((l) => JSON.parse(l) as LogLine).filter((l) => l.msg === "request" && l.route === routeId);

beforeAll(async () => {
  openai = await startOpenAiFake({ apiKey: UPSTREAM_KEY });
  ollama = await startOpenAiFake({ flavor: "ollama" });
  gateway = await startTestGateway({
    "all.yaml": docs(
      secret("upstream", { apiKey: UPSTREAM_KEY }),
      provider(
        "openai",
        openai.baseUrl,
        [
          { name: "gpt", providerModel: "gpt-4o", pricing: PRICING },
          {
            name: "embed",
            providerModel: "text-embedding-3-small",
            kind: "embedding",
            pricing: { inputPer1M: 0.02, outputPer1M: 0 },
          },
        ],
        { apiKeySecret: "upstream" },
      ),
      provider("ollama", ollama.baseUrl, [{ name: "llama", providerModel: "llama3.1:8b", pricing: PRICING }]),
      route("priced", { targets: [{ provider: "openai", model: "gpt" }] }),
      route("local", { targets: [{ provider: "ollama", model: "llama" }] }),
      route("embeddings", { targets: [{ provider: "openai", model: "embed" }] }),
    ),
  });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([openai?.close(), ollama?.close()]);
});

describe("accounting", () => {
  it("logs measured tokens, their cost at list prices and the latency of each request", async () => {
    const res = await post("/v1/chat/completions", chatBody("count my tokens please", { model: "priced" }));
    const { usage } = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    const [line] = requestLogs("default/priced");
    expect(line).toMatchObject({
      inputTokens: usage.prompt_tokens,
      outputTokens: usage.completion_tokens,
      usageEstimated: false,
      outcome: "ok",
    });
    expect(line!.costUsd).toBeCloseTo((usage.prompt_tokens * 2.5 + usage.completion_tokens * 10) / 1e6, 12);
    expect(line!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("estimates and flags usage when the upstream streams none, and records time to first token", async () => {
    const res = await post(
      "/v1/chat/completions",
      chatBody("no usage from ollama streams", { model: "local", stream: true }),
    );
    await res.text();
    const [line] = requestLogs("default/local");
    expect(line).toMatchObject({ stream: true, usageEstimated: true, outcome: "ok" });
    expect(line!.inputTokens).toBeGreaterThan(0);
    expect(line!.outputTokens).toBeGreaterThan(0);
    expect(line!.ttftMs).toBeGreaterThanOrEqual(0);
    expect(line!.costUsd).toBeGreaterThan(0);
  });

  it("prices embeddings by their input tokens", async () => {
    const res = await post(
      "/v1/embeddings",
      JSON.stringify({ model: "embeddings", input: "price this text" }),
    );
    const { usage } = (await res.json()) as { usage: { prompt_tokens: number } };
    const [line] = requestLogs("default/embeddings");
    expect(line!.costUsd).toBeCloseTo((usage.prompt_tokens * 0.02) / 1e6, 15);
  });

  it("exposes cost, time per output token and gateway overhead in Prometheus", async () => {
    await (
      await post(
        "/v1/chat/completions",
        chatBody("one two three four five six", { model: "priced", stream: true }),
      )
    ).text();
    const metrics = await (await fetch(`${gateway.adminUrl!}/metrics`)).text();
    const costs = [
      ...metrics.matchAll(
        /^switchboard_cost_usd_total\{route="default\/priced",provider="default\/openai",model="gpt",consumer="none"\} (\S+)$/gm,
      ),
    ];
    const logged = requestLogs("default/priced").reduce((sum, l) => sum + (l.costUsd ?? 0), 0);
    expect(Number(costs[0]![1])).toBeCloseTo(logged, 12);
    expect(metrics).toMatch(
      /gen_ai_server_time_per_output_token_count\{gen_ai_request_model="gpt",gen_ai_provider_name="default\/openai"\} 1/,
    );
    expect(metrics).toMatch(/switchboard_gateway_overhead_seconds_count\{api="chat.completions"\} [3-9]/);
    expect(metrics).toMatch(/switchboard_gateway_overhead_seconds_count\{api="embeddings"\} 1/);
    expect(metrics).toMatch(
      /gen_ai_client_token_usage_count\{[^}]*gen_ai_request_model="llama"[^}]*estimated="true"[^}]*\} 1/,
    );
  });

  it("counts the gateway's time from the request's arrival, body reading included, in its overhead", async () => {
    const scrape = async () => {
      const text = await (await fetch(`${gateway.adminUrl!}/metrics`)).text();
      const count = (le: string) =>
        Number(
          new RegExp(
            `^switchboard_gateway_overhead_seconds_bucket\\{le="${le}",api="chat.completions"\\} (\\S+)$`,
            "m",
          ).exec(text)?.[1] ?? 0,
        );
      return { fast: count("0\\.1"), all: count("\\+Inf") };
    };
    const before = await scrape();
    const body = chatBody("slow body", { model: "priced" });
    const url = new URL(gateway.url);
    // Headers first, the body 400 ms later: time the gateway spends waiting on its client.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      let text = "";
      socket.on("data", (d) => (text += String(d)));
      socket.on("error", reject);
      socket.on("end", () => resolve(text));
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`,
      );
      setTimeout(() => socket.write(body), 400);
    });
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    let after = await scrape();
    for (let i = 0; i < 50 && after.all === before.all; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await scrape();
    }
    expect(after.all - before.all).toBe(1);
    // Observed above 0.1 s: the 400 ms of waiting for the body count.
    expect(after.fast - before.fast).toBe(0);
  });

  it("keeps prompts, answers and keys out of the log", async () => {
    const all = gateway.logs.join("\n");
    expect(all).not.toContain(UPSTREAM_KEY);
    expect(all).not.toContain("count my tokens");
    expect(all).not.toContain("You said");
  });
});
