import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, runCli, waitForHttp, type CliProcess } from "../support/cli-process.js";
import { freePort } from "../support/free-port.js";

/** The README's main job, run through the real CLI on a copy of config/samples/demo. */
describe("README demo: switchboard gateway --manifests config/samples/demo --demo-upstream", () => {
  let dir: string;
  let cli: CliProcess;
  let baseUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "switchboard-demo-"));
    await cp(path.join(REPO_ROOT, "config/samples/demo"), dir, { recursive: true });
    const [gatewayPort, demoPort] = [await freePort(), await freePort()];
    const providerFile = path.join(dir, "demo-provider.yaml");
    await writeFile(
      providerFile,
      (await readFile(providerFile, "utf8")).replace("127.0.0.1:8081", `127.0.0.1:${demoPort}`),
    );
    cli = runCli([
      "gateway",
      "--manifests",
      dir,
      "--port",
      String(gatewayPort),
      "--demo-upstream",
      String(demoPort),
    ]);
    baseUrl = `http://127.0.0.1:${gatewayPort}`;
    await waitForHttp(`${baseUrl}/readyz`);
  });

  afterAll(async () => {
    await cli?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers the README's curl request", async () => {
    const res = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "switchboard-demo",
        messages: [{ role: "user", content: "Hello, Switchboard" }],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-switchboard-route")).toBe("default/switchboard-demo");
    const body = (await res.json()) as {
      choices: Array<{ message: { content: string } }>;
      usage: { prompt_tokens: number };
    };
    expect(body.choices[0]!.message.content).toBe("[switchboard demo upstream] You said: Hello, Switchboard");
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it("answers the README's OpenAI SDK call, streaming and not", async () => {
    const client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: "unused-by-the-demo" });
    const reply = await client.chat.completions.create({
      model: "switchboard-demo",
      messages: [{ role: "user", content: "Hello from the OpenAI SDK" }],
    });
    expect(reply.choices[0]!.message.content).toContain("You said: Hello from the OpenAI SDK");
    const stream = await client.chat.completions.create({
      model: "switchboard-demo",
      messages: [{ role: "user", content: "stream please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("[switchboard demo upstream] You said: stream please");
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["switchboard-demo", "switchboard-demo-embed"]);
    const embedding = await client.embeddings.create({ model: "switchboard-demo-embed", input: ["a", "b"] });
    expect(embedding.data).toHaveLength(2);
    expect(embedding.data[0]!.embedding).toHaveLength(256);
  });

  it("answers the Anthropic SDK through /v1/messages", async () => {
    const client = new Anthropic({ baseURL: baseUrl, apiKey: "unused" });
    const message = await client.messages.create({
      model: "switchboard-demo",
      max_tokens: 256,
      messages: [{ role: "user", content: "Hello from Anthropic's SDK" }],
    });
    expect(message.content[0]).toMatchObject({
      type: "text",
      text: "[switchboard demo upstream] You said: Hello from Anthropic's SDK",
    });
    expect(message.stop_reason).toBe("end_turn");
  });

  it("refuses an invalid edit naming file, resource and field, keeps serving, then applies a fix", async () => {
    const routes = path.join(dir, "demo-routes.yaml");
    const original = await readFile(routes, "utf8");
    await writeFile(routes, original.replace("model: demo-chat", "model: no-such-model"));
    await cli.waitForOutput(/config refused/);
    expect(cli.output()).toContain(
      'demo-routes.yaml: LLMRoute/default/switchboard-demo: LLMProvider \\"demo-upstream\\" has no model \\"no-such-model\\"',
    );
    const stillServing = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({
        model: "switchboard-demo",
        messages: [{ role: "user", content: "still there?" }],
      }),
    });
    expect(stillServing.status).toBe(200);
    await writeFile(
      routes,
      original
        .replace("- switchboard-demo\n", "- switchboard-demo\n")
        .replace("model: switchboard-demo\n", "model: switchboard-demo\n  aliases: [demo-alias]\n"),
    );
    await cli.waitForOutput(/config applied[\s\S]*config applied/);
    const viaAlias = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "demo-alias", messages: [{ role: "user", content: "alias" }] }),
    });
    expect(viaAlias.status).toBe(200);
  });
});
