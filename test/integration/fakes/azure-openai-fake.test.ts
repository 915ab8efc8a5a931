import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getBearerTokenProvider, WorkloadIdentityCredential } from "@azure/identity";
import OpenAI, { AzureOpenAI } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startAzureOpenAiFake } from "../../fakes/azure-openai-fake.js";
import { startEntraTokenFake, type EntraTokenFake } from "../../fakes/entra-token-fake.js";

const KEY = "0123456789abcdef0123456789abcdef";
const SCOPE = "https://cognitiveservices.azure.com/.default";

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

describe("azure-openai fake driven by the AzureOpenAI client of the openai SDK", () => {
  let fake: FakeServer;
  const client = (deployment: string, apiVersion = "2024-10-21") =>
    new AzureOpenAI({ endpoint: fake.url, apiKey: KEY, apiVersion, deployment, maxRetries: 0 });
  beforeAll(async () => {
    fake = await startAzureOpenAiFake({
      apiKey: KEY,
      deployments: { chat: "gpt-4o-2024-08-06", embed: "text-embedding-3-small", reasoner: "o3-mini" },
      bearerToken: "entra-token-1",
    });
  });
  afterAll(() => fake.close());

  it("serves the deployment path with api-version and the api-key header", async () => {
    const completion = await client("chat").chat.completions.create({
      model: "",
      messages: [{ role: "user", content: "hello azure" }],
    });
    expect(completion.choices[0]!.message.content).toBe("You said: hello azure");
    expect(completion.model).toBe("gpt-4o-2024-08-06");
    expect(completion.choices[0]).toMatchObject({
      content_filter_results: { violence: { filtered: false } },
    });
    expect(completion).toMatchObject({ prompt_filter_results: [{ prompt_index: 0 }] });
    const recorded = fake.requests.at(-1)!;
    expect(recorded.url).toBe("/openai/deployments/chat/chat/completions?api-version=2024-10-21");
    expect(recorded.headers["api-key"]).toBe(KEY);
  });

  it("accepts an Entra ID bearer token and rejects a wrong one", async () => {
    const withToken = (token: string) =>
      new AzureOpenAI({
        endpoint: fake.url,
        azureADTokenProvider: async () => token,
        apiVersion: "2024-10-21",
        deployment: "chat",
        maxRetries: 0,
      });
    const ok = await withToken("entra-token-1").chat.completions.create({
      model: "",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(ok.choices[0]!.message.content).toBe("You said: hi");
    expect(fake.requests.at(-1)!.headers.authorization).toBe("Bearer entra-token-1");
    await expect(
      withToken("forged").chat.completions.create({ model: "", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toMatchObject({
      status: 401,
      message: expect.stringContaining("Access token is missing, invalid"),
    });
  });

  it("rejects a wrong api-key with Azure's 401 body", async () => {
    const bad = new AzureOpenAI({
      endpoint: fake.url,
      apiKey: "wrong",
      apiVersion: "2024-10-21",
      deployment: "chat",
      maxRetries: 0,
    });
    await expect(
      bad.chat.completions.create({ model: "", messages: [{ role: "user", content: "hi" }] }),
    ).rejects.toMatchObject({
      status: 401,
      code: "401",
      message: expect.stringContaining("Access denied due to invalid subscription key"),
    });
  });

  it("answers 404 Resource not found without a known api-version", async () => {
    for (const query of ["", "?api-version=2099-01-01"]) {
      const res = await fetch(`${fake.url}/openai/deployments/chat/chat/completions${query}`, {
        method: "POST",
        headers: { "api-key": KEY, "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "x" }] }),
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: "404", message: "Resource not found" } });
    }
  });

  it("answers an unknown deployment with DeploymentNotFound", async () => {
    await expect(
      client("missing").chat.completions.create({ model: "", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({
      status: 404,
      code: "DeploymentNotFound",
    });
  });

  it("filters a prompt with a 400 content_filter error carrying innererror", async () => {
    const err = (await client("chat")
      .chat.completions.create({ model: "", messages: [{ role: "user", content: "TRIGGER_CONTENT_FILTER" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.code).toBe("content_filter");
    expect(err.param).toBe("prompt");
    expect(err.error).toMatchObject({
      innererror: {
        code: "ResponsibleAIPolicyViolation",
        content_filter_result: { violence: { filtered: true } },
      },
    });
  });

  it("filters a completion with finish_reason content_filter", async () => {
    const completion = await client("chat").chat.completions.create({
      model: "",
      messages: [{ role: "user", content: "TRIGGER_COMPLETION_FILTER" }],
    });
    expect(completion.choices[0]!.finish_reason).toBe("content_filter");
    expect(completion.choices[0]).toMatchObject({
      content_filter_results: { violence: { filtered: true, severity: "medium" } },
    });
  });

  it("rate limits with retry-after and retry-after-ms", async () => {
    const err = (await client("chat")
      .chat.completions.create({ model: "", messages: [{ role: "user", content: "TRIGGER_RATE_LIMIT" }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.headers.get("retry-after")).toBe("6");
    expect(err.headers.get("retry-after-ms")).toBe("5283");
    expect(err.message).toContain(
      "ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21",
    );
  });

  it("streams: prompt filter chunk first, tool deltas, then usage before [DONE]", async () => {
    const stream = await client("chat").chat.completions.create({
      model: "",
      messages: [{ role: "user", content: "weather in Madrid?" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await collect(stream);
    expect(chunks[0]).toMatchObject({
      id: "",
      model: "",
      choices: [],
      prompt_filter_results: [{ prompt_index: 0 }],
    });
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_weather" } });
    expect(JSON.parse(calls.map((c) => c.function?.arguments ?? "").join(""))).toEqual({ city: "Madrid" });
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("tool_calls");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 12 } });
  });

  it("rejects fields an api-version does not know", async () => {
    await expect(
      client("chat", "2024-06-01").chat.completions.create({
        model: "",
        messages: [{ role: "user", content: "x" }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("Unrecognized request argument supplied: stream_options"),
    });
    await expect(
      client("chat").chat.completions.create({
        model: "",
        messages: [{ role: "user", content: "x" }],
        max_completion_tokens: 5,
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining("max_completion_tokens") });
    await expect(
      client("reasoner").chat.completions.create({ model: "", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining("enabled only for api versions 2024-12-01-preview and later"),
    });
    const preview = await client("reasoner", "2025-04-01-preview").chat.completions.create({
      model: "",
      messages: [{ role: "user", content: "x y z" }],
      max_completion_tokens: 2,
    });
    expect(preview.choices[0]!.finish_reason).toBe("length");
  });

  it("embeds through the embeddings deployment, base64 decoded by the SDK", async () => {
    const result = await client("embed").embeddings.create({
      model: "",
      input: ["one", "two"],
      dimensions: 4,
    });
    expect(fake.requests.at(-1)!.url).toBe("/openai/deployments/embed/embeddings?api-version=2024-10-21");
    expect(fake.requests.at(-1)!.json).toMatchObject({ encoding_format: "base64", dimensions: 4 });
    expect(result.data.map((d) => d.embedding.length)).toEqual([4, 4]);
    const floats = await client("embed").embeddings.create({
      model: "",
      input: ["one", "two"],
      dimensions: 4,
      encoding_format: "float",
    });
    expect(floats.data.map((d) => d.embedding)).toEqual(result.data.map((d) => d.embedding));
    await expect(client("chat").embeddings.create({ model: "", input: "x" })).rejects.toMatchObject({
      status: 400,
      code: "OperationNotSupported",
    });
  });

  it("lists models at /openai/models", async () => {
    const page = await new AzureOpenAI({
      endpoint: fake.url,
      apiKey: KEY,
      apiVersion: "2024-10-21",
      maxRetries: 0,
    }).models.list();
    expect(page.data.map((m) => m.id).sort()).toEqual([
      "gpt-4o-2024-08-06",
      "o3-mini",
      "text-embedding-3-small",
    ]);
    expect(fake.requests.at(-1)!.url).toBe("/openai/models?api-version=2024-10-21");
  });
});

describe("Entra token fake driven by @azure/identity's WorkloadIdentityCredential", () => {
  let entra: EntraTokenFake;
  let tokenFile: string;
  const identity = (federatedTokenFile: string) =>
    new WorkloadIdentityCredential({
      tenantId: "tenant-1",
      clientId: "client-1",
      tokenFilePath: federatedTokenFile,
      authorityHost: entra.url,
      // MSAL would otherwise ask login.microsoftonline.com to vouch for this authority.
      disableInstanceDiscovery: true,
      tlsOptions: { ca: entra.caCert },
    });
  beforeAll(async () => {
    entra = await startEntraTokenFake({
      tenantId: "tenant-1",
      clientId: "client-1",
      federatedToken: "projected-sa-token",
    });
    const dir = mkdtempSync(join(tmpdir(), "wi-"));
    tokenFile = join(dir, "azure-identity-token");
    writeFileSync(tokenFile, "projected-sa-token\n");
  });
  afterAll(() => entra.close());

  it("exchanges the federated token for an access token the Azure fake accepts", async () => {
    const azure = await startAzureOpenAiFake({
      apiKey: KEY,
      deployments: { chat: "gpt-4o" },
      bearerToken: (t) => entra.isValid(t, SCOPE),
    });
    try {
      const client = new AzureOpenAI({
        endpoint: azure.url,
        azureADTokenProvider: getBearerTokenProvider(identity(tokenFile), SCOPE),
        apiVersion: "2024-10-21",
        deployment: "chat",
        maxRetries: 0,
      });
      const completion = await client.chat.completions.create({
        model: "",
        messages: [{ role: "user", content: "via entra" }],
      });
      expect(completion.choices[0]!.message.content).toBe("You said: via entra");
      const form = new URLSearchParams(entra.tokenRequests.at(-1)!.body);
      expect(form.get("grant_type")).toBe("client_credentials");
      expect(form.get("client_assertion")).toBe("projected-sa-token");
      expect(form.get("scope")).toBe(SCOPE);
      expect(azure.requests.at(-1)!.headers.authorization).toBe(`Bearer ${entra.issued.at(-1)!.token}`);
    } finally {
      await azure.close();
    }
  });

  it("refuses an assertion with no matching federated credential (AADSTS700211)", async () => {
    const wrongFile = join(mkdtempSync(join(tmpdir(), "wi-")), "token");
    writeFileSync(wrongFile, "someone-elses-token");
    await expect(identity(wrongFile).getToken(SCOPE)).rejects.toThrow(/AADSTS700211/);
  });
});
