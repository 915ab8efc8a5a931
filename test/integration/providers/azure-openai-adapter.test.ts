import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChatRequest } from "../../../src/gateway/canonical/chat.js";
import { createAzureOpenAiAdapter } from "../../../src/gateway/providers/azure-openai/azure-openai-adapter.js";
import { createAdapter } from "../../../src/gateway/providers/adapter-registry.js";
import type { CompiledProvider, ResolvedCredentials } from "../../../src/shared/schemas/gateway-config.js";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startAzureOpenAiFake } from "../../fakes/azure-openai-fake.js";
import { startEntraTokenFake, type EntraTokenFake } from "../../fakes/entra-token-fake.js";
import { embeddingFor } from "../../fakes/openai-fake.js";
import {
  callContext,
  collectStream,
  expectCredentialsRejected,
  expectFinishReason,
  expectGatewayError,
  expectStreamedToolCall,
  expectUnresolvedCredentials,
  itMapsErrorClasses,
  testProvider,
  triggerCase,
  user,
  userTurn,
  WEATHER_TOOL,
} from "./adapter-test-kit.js";

const KEY = "azkey0123456789abcdef0123456789ab";
const SCOPE = "https://cognitiveservices.azure.com/.default";
const DEPLOYMENTS = { chat: "gpt-4o-2024-08-06", embed: "text-embedding-3-small", reasoner: "o3-mini" };

function provider(
  endpoint: string,
  credentials: ResolvedCredentials = { mode: "apiKey", apiKey: KEY },
  apiVersion?: string,
): CompiledProvider {
  return testProvider({
    id: "team-a/azure",
    type: "azure-openai",
    endpoint,
    apiVersion,
    credentials,
    models: [{ name: "gpt-4o", upstreamModel: "chat", kind: "chat", supportsTools: true }],
  });
}

const ask = (text: string, extra: Partial<ChatRequest> = {}, model = "chat"): ChatRequest =>
  userTurn(model, text, extra);

describe("azure-openai adapter with an api-key", () => {
  let fake: FakeServer;
  beforeAll(async () => {
    fake = await startAzureOpenAiFake({ apiKey: KEY, deployments: DEPLOYMENTS });
  });
  afterAll(() => fake.close());

  it("is registered for type azure-openai and calls the deployment URL with the default GA api-version", async () => {
    const adapter = createAdapter(provider(fake.url));
    const res = await adapter.chat(ask("hello azure", { maxTokens: 40 }), callContext());
    expect(res).toMatchObject({
      content: "You said: hello azure",
      finishReason: "stop",
      model: "gpt-4o-2024-08-06",
    });
    expect(res.usage).toMatchObject({ outputTokens: 4, estimated: false });
    const sent = fake.requests.at(-1)!;
    expect(sent.url).toBe("/openai/deployments/chat/chat/completions?api-version=2024-10-21");
    expect(sent.headers["api-key"]).toBe(KEY);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).not.toHaveProperty("model");
    expect(sent.json).toMatchObject({ max_tokens: 40 });
  });

  it("uses max_completion_tokens on preview api-versions, which reasoning deployments require", async () => {
    const adapter = createAzureOpenAiAdapter(
      provider(`${fake.url}/openai/`, undefined, "2025-04-01-preview"),
    );
    const res = await adapter.chat(ask("a b c d", { maxTokens: 3 }, "reasoner"), callContext());
    expect(res).toMatchObject({ content: "You said: a", finishReason: "length" });
    expect(fake.requests.at(-1)!.url).toBe(
      "/openai/deployments/reasoner/chat/completions?api-version=2025-04-01-preview",
    );
    expect(fake.requests.at(-1)!.json).toMatchObject({ max_completion_tokens: 3 });
  });

  it("explains a reasoning deployment on a GA api-version with Azure's message", async () => {
    const err = await expectGatewayError(
      createAzureOpenAiAdapter(provider(fake.url)).chat(ask("x", {}, "reasoner"), callContext()),
    );
    expect(err.errorClass).toBe("invalid_request");
    expect(err.message).toContain("enabled only for api versions 2024-12-01-preview and later");
  });

  it("streams text past the prompt-filter chunk and reports usage", async () => {
    const seen = await collectStream(
      await createAzureOpenAiAdapter(provider(fake.url)).chatStream(ask("stream from azure"), callContext()),
    );
    expect(seen.flatMap((e) => (e.type === "text-delta" ? [e.text] : [])).join("")).toBe(
      "You said: stream from azure",
    );
    expect(seen.slice(-2)).toEqual([
      { type: "finish", finishReason: "stop", rawFinishReason: "stop" },
      { type: "usage", usage: expect.objectContaining({ outputTokens: 5 }) },
    ]);
  });

  it("does not ask api-versions before 2024-10-21 for stream usage, leaving it undefined", async () => {
    const before = fake.requests.length;
    const seen = await collectStream(
      await createAzureOpenAiAdapter(provider(fake.url, undefined, "2024-06-01")).chatStream(
        ask("old version"),
        callContext(),
      ),
    );
    expect(fake.requests.length).toBe(before + 1);
    expect(fake.requests.at(-1)!.json).not.toHaveProperty("stream_options");
    expect(seen.some((e) => e.type === "usage")).toBe(false);
  });

  it("streams tool-call deltas and continues from tool results in history", async () => {
    const adapter = createAzureOpenAiAdapter(provider(fake.url));
    const seen = await collectStream(
      await adapter.chatStream(ask("weather in Madrid", { tools: [WEATHER_TOOL] }), callContext()),
    );
    const call = expectStreamedToolCall(seen, { city: "Madrid" }, "tool_calls");
    const res = await adapter.chat(
      ask("", {
        tools: [WEATHER_TOOL],
        messages: [
          user("weather in Madrid"),
          { role: "assistant", content: "", toolCalls: [call] },
          { role: "tool", toolCallId: call.id, content: "31C, sunny" },
        ],
      }),
      callContext(),
    );
    expect(res.content).toBe("The tool returned: 31C, sunny");
  });

  it("embeds through the embeddings deployment, decoding base64", async () => {
    const res = await createAzureOpenAiAdapter(provider(fake.url)).embed(
      { model: "embed", input: ["azure text"], dimensions: 12 },
      callContext(),
    );
    expect(fake.requests.at(-1)!.url).toBe("/openai/deployments/embed/embeddings?api-version=2024-10-21");
    expect(fake.requests.at(-1)!.json).toEqual({
      input: ["azure text"],
      encoding_format: "base64",
      dimensions: 12,
    });
    expect(res.vectors).toEqual([embeddingFor("azure text", 12)]);
  });

  itMapsErrorClasses(
    {
      adapter: () => createAzureOpenAiAdapter(provider(fake.url)),
      fake: () => fake,
      request: (text) => ask(text),
    },
    [
      triggerCase("TRIGGER_CONTENT_FILTER", {
        message: expect.stringContaining("content management policy"),
      }),
      {
        name: "DeploymentNotFound",
        request: { model: "nope" },
        errorClass: "model_not_found",
        expected: { message: expect.stringContaining("deployment for this resource does not exist") },
      },
      triggerCase("TRIGGER_CONTEXT_LENGTH"),
      triggerCase("TRIGGER_RATE_LIMIT", { retryAfterSeconds: 6 }),
    ],
  );

  it("reports the completion filter as finish reason content_filter, in chat and in streams", async () => {
    await expectFinishReason(
      createAzureOpenAiAdapter(provider(fake.url)),
      ask("TRIGGER_COMPLETION_FILTER"),
      "content_filter",
      "content_filter",
    );
  });

  it("maps rate limits on embeddings and errors inside the stream", async () => {
    const adapter = createAzureOpenAiAdapter(provider(fake.url));
    await expectGatewayError(
      adapter.embed({ model: "embed", input: ["TRIGGER_RATE_LIMIT"] }, callContext()),
      "rate_limit",
    );
    const stream = await adapter.chatStream(ask("TRIGGER_STREAM_ERROR"), callContext());
    expect((await expectGatewayError(collectStream(stream))).message).toContain(
      "The server had an error processing your request",
    );
  });

  it("probes /openai/models with the api-version", async () => {
    await createAzureOpenAiAdapter(provider(fake.url, undefined, "2024-06-01")).probe(callContext());
    expect(fake.requests.at(-1)).toMatchObject({
      method: "GET",
      url: "/openai/models?api-version=2024-06-01",
    });
  });

  it("reports a wrong api-key as an authentication error without the key", async () => {
    await expectCredentialsRejected(
      createAzureOpenAiAdapter(provider(fake.url, { mode: "apiKey", apiKey: "wrong-azure-key-123456" })),
      { chat: ask("x"), embed: { model: "embed", input: ["x"] } },
      ["wrong-azure-key"],
    );
  });

  it("fails clearly for unresolved or missing credentials without calling Azure", async () => {
    const before = fake.requests.length;
    await expectUnresolvedCredentials(
      (credentials) => createAzureOpenAiAdapter(provider(fake.url, credentials)),
      ask("x"),
      fake,
      "key api-key not found in Secret team-a/azure",
    );
    const none = await expectGatewayError(
      createAzureOpenAiAdapter(provider(fake.url, { mode: "none" })).chat(ask("x"), callContext()),
    );
    expect(none.message).toContain(
      "needs spec.credentials.secretRef (an api-key) or spec.credentials.workloadIdentity",
    );
    expect(fake.requests.length).toBe(before);
  });
});

describe("azure-openai adapter with workload identity (Entra ID tokens)", () => {
  let entra: EntraTokenFake;
  let fake: FakeServer;
  let tokenDir: string;
  const saved = { ...process.env };
  // What the Azure Workload Identity webhook injects into the gateway pod.
  function setWebhookEnv(federatedToken: string, clientAndTenant = false): void {
    const file = join(tokenDir, `token-${federatedToken}`);
    writeFileSync(file, federatedToken);
    process.env.AZURE_FEDERATED_TOKEN_FILE = file;
    process.env.AZURE_AUTHORITY_HOST = entra.url;
    if (clientAndTenant) {
      process.env.AZURE_CLIENT_ID = "client-1";
      process.env.AZURE_TENANT_ID = "tenant-1";
    }
  }
  // The fake authority is not a Microsoft host MSAL knows, and its certificate is self-signed.
  const identityOptions = () => ({ disableInstanceDiscovery: true, tlsOptions: { ca: entra.caCert } });
  const workload = (extra: Partial<ResolvedCredentials> = {}): ResolvedCredentials =>
    ({
      mode: "workloadIdentity",
      clientId: "client-1",
      tenantId: "tenant-1",
      ...extra,
    }) as ResolvedCredentials;

  beforeAll(async () => {
    tokenDir = mkdtempSync(join(tmpdir(), "azure-wi-"));
  });
  afterEach(async () => {
    process.env = { ...saved };
    await fake?.close();
    await entra?.close();
  });

  async function start(expiresInSeconds?: number): Promise<void> {
    entra = await startEntraTokenFake({
      tenantId: "tenant-1",
      clientId: "client-1",
      federatedToken: "projected-sa-token",
      expiresInSeconds,
    });
    fake = await startAzureOpenAiFake({
      apiKey: KEY,
      deployments: DEPLOYMENTS,
      bearerToken: (token) => entra.isValid(token, SCOPE),
    });
  }

  it("exchanges the federated token once and reuses the cached Entra token", async () => {
    await start();
    setWebhookEnv("projected-sa-token");
    const adapter = createAzureOpenAiAdapter(provider(fake.url, workload()), {
      identityOptions: identityOptions(),
    });
    for (const text of ["one", "two", "three"])
      expect((await adapter.chat(ask(text), callContext())).content).toBe(`You said: ${text}`);
    await adapter.embed({ model: "embed", input: ["x"] }, callContext());
    expect(entra.tokenRequests).toHaveLength(1);
    const form = new URLSearchParams(entra.tokenRequests[0]!.body);
    expect(form.get("scope")).toBe(SCOPE);
    expect(form.get("client_id")).toBe("client-1");
    expect(
      fake.requests.every(
        (r) =>
          r.headers.authorization === `Bearer ${entra.issued[0]!.token}` &&
          r.headers["api-key"] === undefined,
      ),
    ).toBe(true);
  });

  it("refreshes the token in the background before it expires", async () => {
    await start(90); // inside the two-minute refresh window from the start
    setWebhookEnv("projected-sa-token");
    const adapter = createAzureOpenAiAdapter(provider(fake.url, workload()), {
      identityOptions: identityOptions(),
    });
    await adapter.chat(ask("first"), callContext());
    await adapter.chat(ask("second"), callContext());
    await expect.poll(() => entra.issued.length).toBe(2);
    await adapter.chat(ask("third"), callContext());
    const used = fake.requests.map((r) => r.headers.authorization);
    expect(used).toEqual([
      `Bearer ${entra.issued[0]!.token}`,
      `Bearer ${entra.issued[0]!.token}`,
      `Bearer ${entra.issued[1]!.token}`,
    ]);
  });

  it("uses DefaultAzureCredential with the webhook environment when no clientId or tenantId is set", async () => {
    await start();
    setWebhookEnv("projected-sa-token", true);
    const adapter = createAzureOpenAiAdapter(provider(fake.url, { mode: "workloadIdentity" }), {
      identityOptions: identityOptions(),
    });
    expect((await adapter.chat(ask("default chain"), callContext())).content).toBe("You said: default chain");
    expect(entra.tokenRequests).toHaveLength(1);
  });

  it("reports a federated token Entra does not accept as an authentication error naming the AADSTS code", async () => {
    await start();
    setWebhookEnv("some-other-token");
    const adapter = createAzureOpenAiAdapter(provider(fake.url, workload()), {
      identityOptions: identityOptions(),
    });
    const err = await expectGatewayError(adapter.chat(ask("x"), callContext()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toContain("AADSTS700211");
    expect(err.message).toContain("spec.credentials.workloadIdentity");
    expect(err.message).not.toContain("some-other-token");
    expect(fake.requests).toHaveLength(0);
  });

  it("reports a pod without the workload identity environment clearly", async () => {
    await start();
    delete process.env.AZURE_FEDERATED_TOKEN_FILE;
    const adapter = createAzureOpenAiAdapter(provider(fake.url, workload()), {
      identityOptions: identityOptions(),
    });
    const err = await expectGatewayError(adapter.chat(ask("x"), callContext()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toContain("CredentialUnavailableError");
  });
});
