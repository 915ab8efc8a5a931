import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { runCli, type CliProcess } from "../../support/cli-process.js";
import { freePort } from "../../support/free-port.js";
import { startRedisServer, type TestRedis } from "../../support/redis-server.js";
import { chatBody, docs, provider, route, secret } from "../../integration/gateway/traffic-manifests.js";

/**
 * `switchboard gateway --workers 2`: both workers answer on the one port; a consumer's requests per
 * minute are counted per worker in memory (as docs/benchmarks.md says) and once across workers
 * with --redis-url.
 */

const CONSUMER_KEY = "sk-workers-consumer-0c4d9f27b1";
const PER_MINUTE = 3;
let upstream: OpenAiFake;
let redis: TestRedis;
let dir: string;

beforeAll(async () => {
  upstream = await startOpenAiFake();
  redis = await startRedisServer();
  dir = await mkdtemp(path.join(tmpdir(), "switchboard-workers-"));
  await writeFile(
    path.join(dir, "all.yaml"),
    docs(
      secret("keys", { team: CONSUMER_KEY }),
      provider("fake", upstream.baseUrl, [{ name: "chat", contextWindow: 8192, maxOutputTokens: 512 }]),
      route("limited", {
        targets: [{ provider: "fake", model: "chat" }],
        consumers: [
          {
            name: "team",
            apiKeySecretRef: { name: "keys", key: "team" },
            limits: { requestsPerMinute: PER_MINUTE },
          },
        ],
      }),
    ),
  );
});

afterAll(async () => {
  await upstream?.close();
  await redis?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startWorkers(extra: string[]): Promise<{ cli: CliProcess; url: string }> {
  const port = await freePort();
  const args = ["gateway", "--manifests", dir, "--port", String(port), "--admin-port", "0"];
  const cli = runCli([...args, "--workers", "2", ...extra]);
  const deadline = Date.now() + 120_000;
  while ((cli.output().match(/"msg":"gateway listening"/g)?.length ?? 0) < 2) {
    if (cli.child.exitCode !== null || Date.now() > deadline) {
      await cli.stop();
      throw new Error(`two workers did not start:\n${cli.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { cli, url: `http://127.0.0.1:${port}` };
}

/** `count` requests one after another, each on a new connection so either worker may take it. */
async function statuses(url: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${CONSUMER_KEY}`,
        connection: "close",
      },
      body: chatBody(`hello ${i}`, { model: "limited" }),
    });
    await res.arrayBuffer();
    out.push(res.status);
  }
  return out;
}

const answeringWorkers = (cli: CliProcess) =>
  new Set(
    cli
      .output()
      .split("\n")
      .filter((line) => line.includes('"msg":"request"'))
      .map((line) => (JSON.parse(line) as { worker: number }).worker),
  );

describe("switchboard gateway --workers 2", () => {
  it("serves from both workers, each counting a consumer's requests per minute on its own without Redis", async () => {
    const { cli, url } = await startWorkers([]);
    try {
      const codes = await statuses(url, 4 * PER_MINUTE);
      const ok = codes.filter((c) => c === 200).length;
      expect(codes.filter((c) => c !== 200 && c !== 429)).toEqual([]);
      // Each worker allows the limit once: more than one worker's share, at most both.
      expect(ok).toBeGreaterThan(PER_MINUTE);
      expect(ok).toBeLessThanOrEqual(2 * PER_MINUTE);
      await cli.waitForOutput(/"outcome":"rate_limit"[^\n]*"msg":"request"/);
      expect(answeringWorkers(cli).size).toBe(2);
    } finally {
      await cli.stop();
    }
    expect(cli.child.exitCode).toBe(0);
  }, 240_000);

  it("holds a consumer's requests per minute across workers with --redis-url", async () => {
    const { cli, url } = await startWorkers(["--redis-url", redis.url]);
    try {
      const codes = await statuses(url, 4 * PER_MINUTE);
      expect(codes.filter((c) => c === 200)).toHaveLength(PER_MINUTE);
      expect(codes.filter((c) => c === 429)).toHaveLength(3 * PER_MINUTE);
    } finally {
      await cli.stop();
    }
  }, 240_000);
});
