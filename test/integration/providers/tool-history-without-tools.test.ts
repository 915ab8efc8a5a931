import Anthropic, { BadRequestError } from "@anthropic-ai/sdk";
import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandInput,
} from "@aws-sdk/client-bedrock-runtime";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";
import { startBedrockFake } from "../../fakes/bedrock-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { docs, route, secret } from "../gateway/traffic-manifests.js";

/*
 * An OpenAI client that drops `tools` for a last turn (here a summary) but keeps the tool calls and
 * results in its history: Anthropic and Bedrock refuse tool blocks in a request without tools, so
 * the gateway must still get it answered.
 */

const ANTHROPIC_KEY = "sk-ant-tool-history-0123456789";
const AWS = {
  accessKeyId: "AKIATOOLHISTORY00001",
  secretAccessKey: "tool/History+Secret0123456789abcdefghij",
};
const REGION = "us-east-1";
const CLAUDE = "claude-sonnet-4-5";
const BEDROCK_CLAUDE = "anthropic.claude-3-5-haiku-20241022-v1:0";

let anthropic: FakeServer;
let bedrock: FakeServer;
let gateway: TestGateway;
let openai: OpenAI;

function llmProvider(name: string, type: string, fields: Record<string, unknown>, model: string): object {
  return {
    apiVersion: "llm.switchboard.dev/v1alpha1",
    kind: "LLMProvider",
    metadata: { name, namespace: "default" },
    spec: {
      type,
      ...fields,
      credentials: { secretRef: { name, key: "value" } },
      models: [{ name: "chat", providerModel: model }],
      healthCheck: { probe: "none" },
    },
  };
}

const history: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: "user", content: "What is the weather in Oslo?" },
  {
    role: "assistant",
    content: null,
    tool_calls: [
      {
        id: "call_weather_1",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
      },
    ],
  },
  { role: "tool", tool_call_id: "call_weather_1", content: "5C, snow" },
  { role: "user", content: "Summarise that in one line" },
];

const UPSTREAMS = [
  { route: "summary-anthropic", fake: () => anthropic, answer: "Tool result: 5C, snow" },
  { route: "summary-bedrock", fake: () => bedrock, answer: "You said: Summarise that in one line" },
];

beforeAll(async () => {
  [anthropic, bedrock] = await Promise.all([
    startAnthropicFake({ apiKey: ANTHROPIC_KEY }),
    startBedrockFake({ ...AWS, region: REGION }),
  ]);
  gateway = await startTestGateway({
    "all.yaml": docs(
      secret("claude", { value: ANTHROPIC_KEY }),
      llmProvider("claude", "anthropic", { endpoint: anthropic.url }, CLAUDE),
      secret("aws", { value: JSON.stringify(AWS) }),
      llmProvider("aws", "bedrock", { endpoint: bedrock.url, region: REGION }, BEDROCK_CLAUDE),
      route("summary-anthropic", {
        targets: [{ provider: "claude", model: "chat" }],
        retries: { attempts: 0 },
      }),
      route("summary-bedrock", { targets: [{ provider: "aws", model: "chat" }], retries: { attempts: 0 } }),
    ),
  });
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([anthropic?.close(), bedrock?.close()]);
});

beforeEach(() => {
  anthropic.requests.length = 0;
  bedrock.requests.length = 0;
});

/** The JSON body the gateway sent to a fake for its last chat call. */
function lastUpstreamBody(fake: FakeServer): Record<string, unknown> {
  return fake.requests.at(-1)!.json as Record<string, unknown>;
}

describe("a tool-call history in a request without tools", () => {
  it.each(UPSTREAMS)("is answered through $route", async ({ route: model, fake, answer }) => {
    const completion = await openai.chat.completions.create({ model, messages: history, max_tokens: 64 });
    expect(completion.choices[0]!.message.content).toBe(answer);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.choices[0]!.message.tool_calls ?? []).toEqual([]);
    expect(fake().requests).toHaveLength(1);
  });

  it.each(UPSTREAMS)("is streamed through $route", async ({ route: model, answer }) => {
    const stream = await openai.chat.completions.create({
      model,
      messages: history,
      max_tokens: 64,
      stream: true,
    });
    let content = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(content).toBe(answer);
    expect(finish).toBe("stop");
  });

  it("reaches Anthropic with the history's tool declared and tool_choice none", async () => {
    await openai.chat.completions.create({ model: "summary-anthropic", messages: history, max_tokens: 64 });
    const body = lastUpstreamBody(anthropic);
    expect(body.tools).toEqual([
      {
        name: "get_weather",
        description: expect.stringContaining("no longer offered"),
        input_schema: { type: "object" },
      },
    ]);
    expect(body.tool_choice).toEqual({ type: "none" });
  });

  it("would be refused by Anthropic without the declared tools", async () => {
    await openai.chat.completions.create({ model: "summary-anthropic", messages: history, max_tokens: 64 });
    const { tools: _tools, tool_choice: _choice, ...withoutTools } = lastUpstreamBody(anthropic);
    const client = new Anthropic({ apiKey: ANTHROPIC_KEY, baseURL: anthropic.url, maxRetries: 0 });
    const err = await client.messages
      .create(withoutTools as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).status).toBe(400);
    expect((err as BadRequestError).error).toMatchObject({
      type: "error",
      error: {
        type: "invalid_request_error",
        message: "Requests which include `tool_use` or `tool_result` blocks must define tools.",
      },
    });
  });

  it("reaches Bedrock with a toolConfig declaring the history's tool", async () => {
    await openai.chat.completions.create({ model: "summary-bedrock", messages: history, max_tokens: 64 });
    const body = lastUpstreamBody(bedrock);
    expect(body.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: "get_weather",
            description: expect.stringContaining("no longer offered"),
            inputSchema: { json: { type: "object" } },
          },
        },
      ],
    });
  });

  it("would be refused by Bedrock without the toolConfig", async () => {
    await openai.chat.completions.create({ model: "summary-bedrock", messages: history, max_tokens: 64 });
    const sent = lastUpstreamBody(bedrock);
    const client = new BedrockRuntimeClient({
      region: REGION,
      endpoint: bedrock.url,
      credentials: AWS,
      maxAttempts: 1,
      // The SDK defaults to HTTP/2; the fake speaks HTTP/1.1.
      requestHandler: new NodeHttpHandler(),
    });
    const err = await client
      .send(
        new ConverseCommand({
          modelId: BEDROCK_CLAUDE,
          messages: sent.messages as ConverseCommandInput["messages"],
        }),
      )
      .catch((e: unknown) => e);
    client.destroy();
    expect(err).toMatchObject({
      name: "ValidationException",
      message: "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
      $metadata: { httpStatusCode: 400 },
    });
  });
});
