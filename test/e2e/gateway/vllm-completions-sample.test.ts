import { readFileSync } from "node:fs";
import path from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";

/**
 * config/samples/openai-compatible/vllm-completions.yaml as a user would run it, pointed at a
 * vLLM stand-in: the base model takes text completions natively; when it is down the route falls
 * back to the instruct model, which gets the prompt as a chat message.
 */

const SAMPLE = path.resolve(
  import.meta.dirname,
  "../../../config/samples/openai-compatible/vllm-completions.yaml",
);

let vllm: OpenAiFake;
let gateway: TestGateway;
let client: OpenAI;

beforeAll(async () => {
  vllm = await startOpenAiFake({
    flavor: "vllm",
    models: ["meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct"],
  });
  const yaml = readFileSync(SAMPLE, "utf8").replace(
    "http://vllm-base.inference.svc.cluster.local:8000/v1",
    vllm.baseUrl,
  );
  gateway = await startTestGateway({ "vllm-completions.yaml": yaml });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await vllm?.close();
});

describe("the vLLM completions sample", () => {
  it("forwards completions.create to vLLM's /v1/completions for the base model", async () => {
    const res = await client.completions.create({
      model: "llama-base",
      prompt: "def fib(n):",
      echo: true,
      max_tokens: 40,
    });
    expect(res.choices[0]!.text).toBe("def fib(n):You said: def fib(n):");
    expect(vllm.requests.at(-1)!.url).toBe("/v1/completions");
    expect(vllm.requests.at(-1)!.json).toMatchObject({ model: "meta-llama/Llama-3.1-8B", echo: true });
  });

  it("streams a completion", async () => {
    const stream = await client.completions.create({ model: "llama-base", prompt: "Hello", stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe("You said: Hello");
  });

  it("falls back to the instruct model, which gets the prompt as a chat message", async () => {
    // The base model fails its attempt and its one retry.
    vllm.faults.push({ kind: "reset" }, { kind: "reset" });
    const res = await client.completions.create({
      model: "llama-base",
      prompt: "Hello again",
      max_tokens: 40,
    });
    expect(res.choices[0]!.text).toBe("You said: Hello again");
    expect(vllm.requests.at(-1)!.url).toBe("/v1/chat/completions");
    expect(vllm.requests.at(-1)!.json).toMatchObject({
      model: "meta-llama/Llama-3.1-8B-Instruct",
      messages: [{ role: "user", content: "Hello again" }],
    });
  });
});
