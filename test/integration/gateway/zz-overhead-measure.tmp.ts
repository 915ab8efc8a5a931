import { createHash } from "node:crypto";
import { startOpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway } from "../../support/gateway-harness.js";
import { startRedisServer } from "../../support/redis-server.js";
import { chatBody, docs, provider, route, secret } from "./traffic-manifests.js";

const KEY = "sk-bench-consumer-123456";
const upstream = await startOpenAiFake({ flavor: "vllm" });
const redis = await startRedisServer();
const manifests = {
  "all.yaml": docs(
    secret("keys", { k: `sha256:${createHash("sha256").update(KEY).digest("hex")}` }),
    provider("plain", upstream.baseUrl, [{ name: "m", pricing: { inputPer1M: 1, outputPer1M: 1 } }]),
    provider("limited", upstream.baseUrl, [{ name: "m", pricing: { inputPer1M: 1, outputPer1M: 1 } }], {
      limits: { requestsPerMinute: 1e9, tokensPerMinute: 1e12, maxConcurrency: 1000 },
    }),
    route("open", { targets: [{ provider: "plain", model: "m" }] }),
    route("full", {
      targets: [{ provider: "limited", model: "m" }],
      consumers: [
        {
          name: "c",
          apiKeySecretRef: { name: "keys", key: "k" },
          limits: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 },
          budget: { usd: 1e9, period: "day" },
        },
      ],
    }),
    route("cached", { targets: [{ provider: "plain", model: "m" }], cache: { ttl: "1h" } }),
  ),
};
for (const backend of ["memory", "redis"] as const) {
  const gw = await startTestGateway(manifests, {
    gateway: backend === "redis" ? { redisUrl: redis.url } : {},
  });
  let prevSum = 0;
  let prevCount = 0;
  for (const [model, stream] of [
    ["open", false],
    ["full", false],
    ["full", true],
    ["cached", false],
  ] as const) {
    const n = 1500;
    const samples: number[] = [];
    for (let i = 0; i < n + 200; i++) {
      const t = performance.now();
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
        body: chatBody(model === "cached" ? "same" : `hello ${i}`, { model, stream }),
      });
      await res.text();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      if (i >= 200) samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    const sum = Number(
      /switchboard_gateway_overhead_seconds_sum\{api="chat.completions"\} (\S+)/.exec(metrics)![1],
    );
    const count = Number(
      /switchboard_gateway_overhead_seconds_count\{api="chat.completions"\} (\S+)/.exec(metrics)![1],
    );
    console.log(
      JSON.stringify({
        backend,
        model,
        stream,
        clientP50ms: samples[Math.floor(n * 0.5)]!.toFixed(3),
        clientP99ms: samples[Math.floor(n * 0.99)]!.toFixed(3),
        meanOverheadMs: (((sum - prevSum) / (count - prevCount)) * 1000).toFixed(3),
      }),
    );
    prevSum = sum;
    prevCount = count;
  }
  await gw.close();
}
await redis.stop();
await upstream.close();
