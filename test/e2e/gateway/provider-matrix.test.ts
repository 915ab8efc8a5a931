import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import {
  anthropicDriver,
  openAiDriver,
  responsesDriver,
  type Answer,
  type ErrorSeen,
  type IngressDriver,
  type IngressName,
} from "./ingress-drivers.js";
import { authModes, jsonModes, readProvidersTable, verdict, type Column } from "./providers-table.js";
import {
  FAKE_ANSWERS_NATIVE_JSON,
  NATIVE_JSON_SENT,
  RAW_FINISH,
  startUpstreams,
  SYSTEM_PROMPT_SENT,
  TOOL_RESULT_REF,
  TOOL_RESULTS_SENT,
  UPSTREAMS,
  servesTextCompletions,
  type Upstream,
  type Upstreams,
  type UpstreamSpec,
} from "./upstreams.js";

/**
 * Every client API of the gateway × every upstream type, through the official SDKs, driven by
 * docs/providers.md: what a row claims is run, what it denies is checked to fail clearly.
 */

const table = readProvidersTable();
const INGRESSES: IngressName[] = ["openai", "anthropic", "responses"];
const STREAM_MODES = [false, true];
/** A rate limit cools its target down for Retry-After seconds: each ingress and mode gets its own target. */
const rateLimitRoute = (ingress: IngressName, stream: boolean) =>
  `ratelimit-${ingress}-${stream ? "stream" : "whole"}`;

let upstreams: Upstreams;
let gateway: TestGateway;
let openai: OpenAI;
const drivers = {} as Record<IngressName, IngressDriver>;

beforeAll(async () => {
  upstreams = await startUpstreams(INGRESSES.flatMap((i) => STREAM_MODES.map((s) => rateLimitRoute(i, s))));
  gateway = await startTestGateway(upstreams.manifests);
  openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "e2e-client", maxRetries: 0 });
  drivers.openai = openAiDriver(gateway.url);
  drivers.anthropic = anthropicDriver(gateway.url);
  drivers.responses = responsesDriver(gateway.url);
});

afterAll(async () => {
  await gateway?.close();
  await upstreams?.close();
});

// ------------------------------------------------------------------------------- expectations

const WEATHER_PROMPT = "What is the weather in Lisbon?";
const TOOL_OUTPUT = "sunny, 18 degrees";

type ErrorKind =
  | "invalid_request"
  | "context_length"
  | "content_filter"
  | "rate_limit"
  | "unavailable"
  | "broken_stream"
  | "authentication"
  | "model_not_found"
  | "too_large";

type ErrorShape = Pick<ErrorSeen, "status" | "sdkClass" | "code">;

/** One error class through both SDKs; `anthropic` overrides where Anthropic's status or class differ. */
function errorShape(
  status: number | undefined,
  sdkClass: string,
  openaiCode: string,
  anthropicType: string,
  anthropic: Partial<ErrorShape> = {},
): Record<IngressName, ErrorShape> {
  return {
    openai: { status, sdkClass, code: openaiCode },
    anthropic: { status, sdkClass, code: anthropicType, ...anthropic },
    // The same SDK and error bodies as chat completions.
    responses: { status, sdkClass, code: openaiCode },
  };
}

/** Each error class as the client sees it: HTTP status, SDK error class, OpenAI code / Anthropic type. */
const EXPECTED_ERRORS: Record<ErrorKind, Record<IngressName, ErrorShape>> = {
  invalid_request: errorShape(400, "BadRequestError", "invalid_request", "invalid_request_error"),
  context_length: errorShape(400, "BadRequestError", "context_length_exceeded", "invalid_request_error"),
  content_filter: errorShape(400, "BadRequestError", "content_filter", "invalid_request_error"),
  rate_limit: errorShape(429, "RateLimitError", "rate_limit", "rate_limit_error"),
  unavailable: errorShape(503, "InternalServerError", "upstream_unavailable", "overloaded_error", {
    status: 529,
    sdkClass: "OverloadedError",
  }),
  broken_stream: errorShape(undefined, "APIError", "upstream_unavailable", "overloaded_error"),
  authentication: errorShape(401, "AuthenticationError", "authentication", "authentication_error"),
  model_not_found: errorShape(404, "NotFoundError", "model_not_found", "not_found_error"),
  too_large: errorShape(413, "APIError", "request_too_large", "request_too_large", {
    sdkClass: "ContentTooLargeError",
  }),
};

/** The error a call ended with: thrown, or ending a stream the driver had started reading. */
async function failure(d: IngressDriver, pending: Promise<unknown>, kind: ErrorKind): Promise<ErrorSeen> {
  const outcome = await pending.then(
    (value) => (value as Partial<Answer>).streamError,
    (err: unknown) => err,
  );
  expect(outcome, `expected a ${kind} error`).toBeDefined();
  const seen = d.describe(outcome);
  expect({ status: seen.status, sdkClass: seen.sdkClass, code: seen.code }, seen.message).toEqual(
    EXPECTED_ERRORS[kind][d.name],
  );
  return seen;
}

/** Runs a check non-streamed, then streamed: errors before the first byte are statuses either way. */
async function eachMode(check: (stream: boolean) => Promise<unknown>): Promise<void> {
  for (const stream of STREAM_MODES) await check(stream);
}

function lastUpstreamBody(u: Upstream): Record<string, unknown> {
  return u.fake.requests.at(-1)!.json as Record<string, unknown>;
}

function expectNoSecrets(u: Upstream, clientSaw: string): void {
  const logs = gateway.logs.join("\n");
  for (const secret of u.secrets) {
    expect(clientSaw).not.toContain(secret);
    expect(logs).not.toContain(secret);
    // API keys may come back masked to their last four characters (OpenAI does that).
    if (secret.length < 40) expect(clientSaw).not.toContain(secret.slice(-4));
  }
}

// ------------------------------------------------------------------------------- chat scenarios

interface ChatContext {
  d: IngressDriver;
  u: Upstream;
  model: string;
}

interface Variant {
  name: string;
  run(ctx: ChatContext): Promise<void>;
}

interface ChatScenario {
  /** The table column that decides; scenarios without one are error classes every row has. */
  column?: Column;
  /** What to run for each verdict the column may hold. */
  variants: Record<string, Variant>;
  applies?(u: UpstreamSpec): boolean;
}

const ask = (ctx: ChatContext, stream: boolean, prompt = `Hello from ${ctx.d.name} to ${ctx.u.key}`) =>
  ctx.d.chat({ model: ctx.model, prompt, stream });

const askWeather = (ctx: ChatContext, stream: boolean) =>
  ctx.d.chat({ model: ctx.model, prompt: WEATHER_PROMPT, tools: true, stream });

function expectEcho(ctx: ChatContext, answer: Answer, prompt: string): void {
  expect(answer.streamError).toBeUndefined();
  expect(answer.framingProblems).toEqual([]);
  expect(answer).toMatchObject({
    text: `You said: ${prompt}`,
    toolCalls: [],
    finishReason: ctx.d.finish.stop,
    rawFinishReason: RAW_FINISH[ctx.u.family].stop,
  });
}

function expectWeatherCall(ctx: ChatContext, answer: Answer): void {
  expect(answer.streamError).toBeUndefined();
  expect(answer.framingProblems).toEqual([]);
  expect(answer.toolCalls).toEqual([
    expect.objectContaining({ id: expect.any(String), name: "get_weather", arguments: { city: "Lisbon" } }),
  ]);
  expect(answer.finishReason).toBe(ctx.d.finish.toolCalls);
  expect(answer.rawFinishReason).toBe(RAW_FINISH[ctx.u.family].toolCalls);
}

function streamsToolCall(name: string, expectFragments: (count: number) => void): Variant {
  return {
    name,
    async run(ctx) {
      const answer = await askWeather(ctx, true);
      expectWeatherCall(ctx, answer);
      expectFragments(answer.toolCalls[0]!.fragments);
    },
  };
}

const CHAT_SCENARIOS: ChatScenario[] = [
  {
    column: "Chat",
    variants: {
      yes: {
        name: "answers a prompt with the upstream's usage",
        async run(ctx) {
          const answer = await ask(ctx, false);
          expectEcho(ctx, answer, `Hello from ${ctx.d.name} to ${ctx.u.key}`);
          expect(answer.usageEstimated).toBe(false);
          expect(answer.usage).toEqual({ input: expect.any(Number), output: expect.any(Number) });
          expect(Math.min(answer.usage!.input!, answer.usage!.output!)).toBeGreaterThan(0);
        },
      },
    },
  },
  {
    column: "Streaming",
    variants: {
      yes: {
        name: "streams a prompt",
        async run(ctx) {
          expectEcho(ctx, await ask(ctx, true), `Hello from ${ctx.d.name} to ${ctx.u.key}`);
        },
      },
    },
  },
  {
    column: "Usage in streams",
    variants: {
      yes: {
        name: "reports stream usage as the upstream counted it",
        async run(ctx) {
          const prompt = "Count my tokens";
          const [streamed, whole] = [await ask(ctx, true, prompt), await ask(ctx, false, prompt)];
          expect(streamed.usageEstimated).toBe(false);
          expect(streamed.usage).toEqual(whole.usage);
        },
      },
      no: {
        name: "estimates stream usage and flags it",
        async run(ctx) {
          const streamed = await ask(ctx, true, "Count my tokens");
          expect(streamed.usageEstimated).toBe(true);
          expect(Math.min(streamed.usage!.input!, streamed.usage!.output!)).toBeGreaterThan(0);
        },
      },
    },
  },
  {
    column: "Tools",
    variants: {
      yes: {
        name: "returns a tool call whose arguments the client parses",
        run: async (ctx) => expectWeatherCall(ctx, await askWeather(ctx, false)),
      },
    },
  },
  {
    column: "Streamed tool-call deltas",
    variants: {
      yes: streamsToolCall("streams tool-call arguments in fragments", (n) =>
        expect(n).toBeGreaterThanOrEqual(2),
      ),
      whole: streamsToolCall("streams each tool call whole in one delta", (n) => expect(n).toBe(1)),
    },
  },
  {
    column: "Tools",
    variants: {
      yes: {
        name: "sends a tool result back upstream in the upstream's format, streamed or not",
        async run(ctx) {
          const first = await askWeather(ctx, false);
          const call = first.toolCalls[0]!;
          await eachMode(async (stream) => {
            const reply = await ctx.d.chat({
              model: ctx.model,
              prompt: WEATHER_PROMPT,
              tools: true,
              stream,
              toolResult: { call, assistantText: first.text, output: TOOL_OUTPUT },
            });
            expect(reply.streamError).toBeUndefined();
            expect(reply.text).toContain(TOOL_OUTPUT);
            expect(reply.finishReason).toBe(ctx.d.finish.stop);
            expect(TOOL_RESULTS_SENT[ctx.u.family](lastUpstreamBody(ctx.u))).toEqual([
              { ref: call[TOOL_RESULT_REF[ctx.u.family]], text: expect.stringContaining(TOOL_OUTPUT) },
            ]);
          });
        },
      },
    },
  },
  {
    variants: {
      yes: {
        name: "reports a filtered completion as a content_filter finish, streamed or not",
        async run(ctx) {
          await eachMode(async (stream) => {
            const answer = await ask(ctx, stream, `Tell me ${ctx.u.contentFilterTrigger}`);
            expect(answer.streamError).toBeUndefined();
            expect(answer.framingProblems).toEqual([]);
            expect(answer.finishReason).toBe(ctx.d.finish.contentFilter);
            expect(answer.rawFinishReason).toBe(RAW_FINISH[ctx.u.family].contentFilter);
          });
        },
      },
    },
  },
  {
    variants: {
      yes: {
        name: "cuts an answer at max_tokens with a length finish, streamed or not",
        run: (ctx) =>
          eachMode(async (stream) => {
            const prompt = "Please repeat this rather long sentence back to me word for word";
            const answer = await ctx.d.chat({ model: ctx.model, prompt, stream, maxTokens: 3 });
            expect(answer.streamError).toBeUndefined();
            expect(answer.framingProblems).toEqual([]);
            expect(answer.text.length).toBeGreaterThan(0);
            expect(`You said: ${prompt}`.startsWith(answer.text) && answer.text.length < prompt.length).toBe(
              true,
            );
            expect(answer.finishReason).toBe(ctx.d.finish.length);
            expect(answer.rawFinishReason).toBe(RAW_FINISH[ctx.u.family].length);
          }),
      },
    },
  },
  {
    applies: (u) => u.promptFilterTrigger !== undefined,
    variants: {
      yes: {
        name: "refuses a filtered prompt with a content_filter error, streamed or not",
        run: (ctx) =>
          eachMode((stream) =>
            failure(ctx.d, ask(ctx, stream, `Tell me ${ctx.u.promptFilterTrigger}`), "content_filter"),
          ),
      },
    },
  },
  {
    variants: {
      yes: {
        name: "reports context_length_exceeded, streamed or not",
        run: (ctx) =>
          eachMode((stream) => failure(ctx.d, ask(ctx, stream, "TRIGGER_CONTEXT_LENGTH"), "context_length")),
      },
    },
  },
  {
    variants: {
      yes: {
        name: "passes a rate limit on with the upstream's Retry-After, streamed or not",
        run: (ctx) =>
          eachMode(async (stream) => {
            const model = `${rateLimitRoute(ctx.d.name, stream)}-${ctx.u.key}`;
            const seen = await failure(
              ctx.d,
              ask({ ...ctx, model }, stream, "TRIGGER_RATE_LIMIT"),
              "rate_limit",
            );
            expect(seen.retryAfter).toBe(ctx.u.retryAfter ?? null);
          }),
      },
    },
  },
  {
    variants: {
      yes: {
        name: "ends a stream that breaks after its start with an error event",
        async run(ctx) {
          const prompt = "TRIGGER_STREAM_ERROR now";
          const answer = await ask(ctx, true, prompt);
          await failure(ctx.d, Promise.resolve(answer), "broken_stream");
          expect(answer.text.length).toBeGreaterThan(0);
          expect(`You said: ${prompt}`.startsWith(answer.text)).toBe(true);
        },
      },
    },
  },
  {
    applies: (u) => u.earlyStreamError,
    variants: {
      yes: {
        name: "answers a stream that fails before its first event with an error status",
        run: (ctx) => failure(ctx.d, ask(ctx, true, "TRIGGER_EARLY_STREAM_ERROR"), "unavailable").then(),
      },
    },
  },
  {
    variants: {
      yes: {
        name: "answers an upstream that drops the connection with an error status, streamed or not",
        run: (ctx) =>
          eachMode(async (stream) => {
            ctx.u.fake.faults.push({ kind: "reset" });
            await failure(ctx.d, ask(ctx, stream), "unavailable");
          }),
      },
    },
  },
  {
    applies: (u) => u.auth === "secretRef",
    variants: {
      yes: {
        name: "reports rejected upstream credentials without leaking them, streamed or not",
        run: (ctx) =>
          eachMode(async (stream) => {
            const seen = await failure(
              ctx.d,
              ask({ ...ctx, model: `badkey-${ctx.u.key}` }, stream),
              "authentication",
            );
            expectNoSecrets(ctx.u, seen.everything);
          }),
      },
    },
  },
];

/** A test that fails because the table claims something the matrix has no check for. */
function uncheckable(row: string, column: Column, cell: string): void {
  it(`${column}: "${cell}" is a claim the matrix can check`, () => {
    expect.fail(`docs/providers.md, row "${row}", column "${column}": "${cell}" has no check in the matrix`);
  });
}

for (const ingress of INGRESSES) {
  describe(`${ingress} SDK`, () => {
    for (const spec of UPSTREAMS) {
      const row = table.get(spec.row);
      if (!row) continue;
      describe(spec.row, () => {
        // Every chat scenario runs through the Responses API for each row that claims it.
        const responses = row["Responses API"];
        if (ingress === "responses" && verdict(responses) !== "yes") {
          uncheckable(spec.row, "Responses API", responses);
          return;
        }
        for (const scenario of CHAT_SCENARIOS) {
          if (scenario.applies && !scenario.applies(spec)) continue;
          const cell = scenario.column ? row[scenario.column] : "yes";
          const variant = scenario.variants[verdict(cell)];
          if (!variant) {
            uncheckable(spec.row, scenario.column!, cell);
            continue;
          }
          it(variant.name, () =>
            variant.run({ d: drivers[ingress], u: upstreams.get(spec.key), model: `chat-${spec.key}` }),
          );
        }
      });
    }

    describe("client mistakes", () => {
      const d = () => drivers[ingress];
      it("answers an unknown model with 404 pointing at /v1/models", async () => {
        const seen = await failure(
          d(),
          d().chat({ model: "no-such-model", prompt: "hi", stream: false }),
          "model_not_found",
        );
        expect(seen.message).toContain('"no-such-model"');
        expect(seen.message).toContain("/v1/models");
      });
      it("answers malformed JSON with 400", async () => {
        const res = await fetch(`${gateway.url}${d().path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: '{"model": "chat-openai", "messages": [',
        });
        expect(res.status).toBe(400);
        const body = (await res.json()) as { error: { type: string; message: string } };
        expect(body.error.type).toBe("invalid_request_error");
        expect(body.error.message).toContain("not valid JSON");
      });
      it("answers an oversized body with 413", async () => {
        const huge = "x".repeat(9 * 1024 * 1024);
        await failure(d(), d().chat({ model: "chat-openai", prompt: huge, stream: false }), "too_large");
      });
      it("answers a request without its conversation with 400 naming the field", async () => {
        const seen = await failure(d(), d().chatWithoutMessages("chat-openai"), "invalid_request");
        expect(seen.message).toMatch(new RegExp(`\\b${d().conversationField}\\b.*required`));
      });
    });
  });
}

// ------------------------------------------------------------------------------- JSON mode

describe.each(["openai", "responses"] as const)("%s SDK: JSON mode", (ingress) => {
  for (const spec of UPSTREAMS) {
    const cell = table.get(spec.row)?.["JSON mode"] ?? "";
    for (const claim of jsonModes(cell)) {
      const how = claim.instruction ? "as a system instruction" : "natively";
      it(`${spec.row}: asks for ${claim.mode} ${how}`, async () => {
        const u = upstreams.get(spec.key);
        const answer = await drivers[ingress].chat({
          model: `chat-${u.key}`,
          prompt: "Reply in JSON, please",
          stream: false,
          responseFormat: claim.mode,
        });
        const sent = lastUpstreamBody(u);
        if (claim.instruction) {
          expect(NATIVE_JSON_SENT[u.family](sent, claim.mode)).toBe(false);
          expect(SYSTEM_PROMPT_SENT[u.family](sent)).toMatch(/JSON/);
        } else {
          expect(NATIVE_JSON_SENT[u.family](sent, claim.mode)).toBe(true);
        }
        if (!claim.instruction && FAKE_ANSWERS_NATIVE_JSON[u.family]) {
          expect(JSON.parse(answer.text)).toEqual(expect.any(Object));
        }
      });
    }
  }
});

// ------------------------------------------------------------------------------- Responses API: what needs server-side state

describe("responses SDK: stateless only", () => {
  const client = () => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "e2e-client", maxRetries: 0 });
  it.each([
    ["previous_response_id", { previous_response_id: "resp_123" }],
    ["store", { store: true }],
    ["background", { background: true }],
  ])("answers %s with 400 naming it and saying what to send instead", async (param, extra) => {
    const seen = await failure(
      drivers.responses,
      client().responses.create({ model: "chat-openai", input: "hi", ...extra }),
      "invalid_request",
    );
    expect(seen.param).toBe(param);
    expect(seen.message).toContain("send the whole conversation in input");
  });
  it("answers a built-in tool with 400 saying only function tools are supported", async () => {
    const seen = await failure(
      drivers.responses,
      client().responses.create({
        model: "chat-openai",
        input: "hi",
        tools: [{ type: "web_search_preview" }],
      }),
      "invalid_request",
    );
    expect(seen.message).toContain("only function tools");
  });
});

// ------------------------------------------------------------------------------- text completions

/** Reads a completion stream through the SDK: text per choice, finish reasons, the usage chunk. */
async function streamCompletion(params: OpenAI.CompletionCreateParamsNonStreaming) {
  const stream = await openai.completions.create({
    ...params,
    stream: true,
    stream_options: { include_usage: true },
  });
  const texts: string[] = [];
  const finishes: Array<string | null> = [];
  let usage: OpenAI.CompletionUsage | undefined;
  let usageEstimated: boolean | undefined;
  try {
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        texts[choice.index] = (texts[choice.index] ?? "") + choice.text;
        if (choice.finish_reason) finishes[choice.index] = choice.finish_reason;
      }
      if (chunk.usage) {
        usage = chunk.usage;
        usageEstimated = (chunk as unknown as { switchboard: { usage_estimated: boolean } }).switchboard
          .usage_estimated;
      }
    }
  } catch (err) {
    return { texts, finishes, usage, usageEstimated, streamError: err };
  }
  return { texts, finishes, usage, usageEstimated, streamError: undefined };
}

const COMPLETION_PROMPT = "Once upon a time";

const COMPLETION_VARIANTS: Record<string, Array<{ name: string; run(u: Upstream): Promise<void> }>> = {
  native: [
    {
      name: "forwards prompts, n, echo, logprobs, stop and max_tokens natively",
      async run(u) {
        const res = await openai.completions.create({
          model: `complete-${u.key}`,
          prompt: [COMPLETION_PROMPT, "Second prompt here"],
          n: 2,
          echo: true,
          logprobs: 1,
          max_tokens: 3,
          stop: ["NEVER"],
        });
        expect(res.object).toBe("text_completion");
        expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
        expect(res.choices[0]!.text.startsWith(`${COMPLETION_PROMPT}You said:`)).toBe(true);
        expect(res.choices[2]!.text.startsWith("Second prompt here")).toBe(true);
        expect(res.choices.every((c) => c.finish_reason === "length")).toBe(true);
        expect(res.choices[0]!.logprobs?.tokens?.length).toBeGreaterThan(0);
        expect(res.usage!.prompt_tokens).toBeGreaterThan(0);
        const sent = lastUpstreamBody(u);
        expect(u.fake.requests.at(-1)!.url).toMatch(/\/completions$/);
        expect(sent).toMatchObject({
          model: u.chatModel,
          prompt: [COMPLETION_PROMPT, "Second prompt here"],
          n: 2,
          echo: true,
          logprobs: 1,
          max_tokens: 3,
          stop: ["NEVER"],
        });
      },
    },
    {
      name: "streams a completion with the upstream's usage",
      async run(u) {
        const seen = await streamCompletion({
          model: `complete-${u.key}`,
          prompt: COMPLETION_PROMPT,
          max_tokens: 50,
        });
        expect(seen.streamError).toBeUndefined();
        expect(seen.texts).toEqual([`You said: ${COMPLETION_PROMPT}`]);
        expect(seen.finishes).toEqual(["stop"]);
        if (verdict(table.get(u.row)!["Usage in streams"]) === "yes") {
          expect(seen.usageEstimated).toBe(false);
          expect(seen.usage!.completion_tokens).toBeGreaterThan(0);
        } else {
          expect(seen.usageEstimated).toBe(true);
        }
      },
    },
    {
      name: "reports upstream errors as on chat: context length, a broken stream",
      async run(u) {
        const model = `complete-${u.key}`;
        await failure(
          drivers.openai,
          openai.completions.create({ model, prompt: "TRIGGER_CONTEXT_LENGTH" }),
          "context_length",
        );
        const broken = await streamCompletion({ model, prompt: "TRIGGER_STREAM_ERROR now" });
        await failure(drivers.openai, Promise.resolve(broken), "broken_stream");
        expect(broken.texts[0]!.length).toBeGreaterThan(0);
      },
    },
  ],
  chat: [
    {
      name: "sends the prompt as one user message, streamed or not",
      async run(u) {
        const model = `chat-${u.key}`;
        const res = await openai.completions.create({ model, prompt: COMPLETION_PROMPT, max_tokens: 50 });
        expect(res.choices).toEqual([
          expect.objectContaining({
            index: 0,
            text: `You said: ${COMPLETION_PROMPT}`,
            finish_reason: "stop",
          }),
        ]);
        expect(res.usage!.prompt_tokens).toBeGreaterThan(0);
        const streamed = await streamCompletion({ model, prompt: COMPLETION_PROMPT, max_tokens: 50 });
        expect(streamed.streamError).toBeUndefined();
        expect(streamed.texts).toEqual([`You said: ${COMPLETION_PROMPT}`]);
        expect(streamed.finishes).toEqual(["stop"]);
      },
    },
    {
      name: "answers what only text completions do with 400 naming the field",
      async run(u) {
        for (const [param, extra] of [
          ["echo", { echo: true }],
          ["n", { n: 2 }],
          ["logprobs", { logprobs: 1 }],
          ["suffix", { suffix: "end" }],
          ["prompt", { prompt: ["a", "b"] }],
        ] as Array<[string, Partial<OpenAI.CompletionCreateParamsNonStreaming>]>) {
          const seen = await failure(
            drivers.openai,
            openai.completions.create({ model: `chat-${u.key}`, prompt: COMPLETION_PROMPT, ...extra }),
            "invalid_request",
          );
          expect(seen.param).toBe(param);
          expect(seen.message).toContain("textCompletions: true");
        }
      },
    },
  ],
};

describe("openai SDK: text completions", () => {
  for (const spec of UPSTREAMS) {
    const cell = table.get(spec.row)?.["Text completions"];
    if (cell === undefined) continue;
    const variants = COMPLETION_VARIANTS[verdict(cell)];
    if (!variants || (verdict(cell) === "native") !== servesTextCompletions(spec)) {
      uncheckable(spec.row, "Text completions", cell);
      continue;
    }
    for (const variant of variants)
      it(`${spec.row}: ${variant.name}`, () => variant.run(upstreams.get(spec.key)));
  }
});

// ------------------------------------------------------------------------------- embeddings

const TEXTS = ["the quick brown fox", "jumps over the lazy dog"];

function norm(vector: number[]): number {
  return Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
}

function decodeBase64(text: string): number[] {
  const bytes = Buffer.from(text, "base64");
  return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
}

const embedFloats = (model: string, dimensions?: number) =>
  openai.embeddings.create({
    model,
    input: TEXTS,
    encoding_format: "float",
    ...(dimensions ? { dimensions } : {}),
  });

const EMBEDDING_VARIANTS: Record<string, Array<{ name: string; run(u: Upstream): Promise<void> }>> = {
  yes: [
    {
      name: "embeds text as floats with the upstream's usage",
      async run(u) {
        const res = await embedFloats(`embed-${u.key}`);
        const vectors = res.data.map((d) => d.embedding);
        expect(vectors.map((v) => v.length)).toEqual([u.embedding!.dimensions, u.embedding!.dimensions]);
        for (const vector of vectors) expect(norm(vector)).toBeCloseTo(1, 3);
        expect(vectors[0]).not.toEqual(vectors[1]);
        expect(res.usage.prompt_tokens).toBeGreaterThan(0);
        expect(
          (res as unknown as { switchboard: { usage_estimated: boolean } }).switchboard.usage_estimated,
        ).toBe(false);
      },
    },
    {
      name: "returns base64 that decodes to the same vectors",
      async run(u) {
        const model = `embed-${u.key}`;
        const floats = (await embedFloats(model)).data.map((d) => d.embedding);
        const base64 = await openai.embeddings.create({ model, input: TEXTS, encoding_format: "base64" });
        const decoded = base64.data.map((d) => decodeBase64(d.embedding as unknown as string));
        // The SDK's default asks for base64 and decodes it itself.
        const byDefault = (await openai.embeddings.create({ model, input: TEXTS })).data.map(
          (d) => d.embedding,
        );
        for (const vectors of [decoded, byDefault]) {
          vectors.forEach((vector, i) => {
            expect(vector).toHaveLength(floats[i]!.length);
            vector.forEach((value, j) => expect(value).toBeCloseTo(floats[i]![j]!, 6));
          });
        }
      },
    },
    {
      name: "honours dimensions",
      async run(u) {
        const res = await embedFloats(`embed-${u.key}`, 256);
        expect(res.data.map((d) => d.embedding.length)).toEqual([256, 256]);
      },
    },
  ],
  no: [
    {
      name: "answers 400 saying the provider has no embeddings",
      async run(u) {
        const seen = await failure(
          drivers.openai,
          openai.embeddings.create({ model: `embed-${u.key}`, input: TEXTS }),
          "invalid_request",
        );
        expect(seen.message.toLowerCase()).toContain(u.type);
        expect(seen.message).toMatch(/has no embeddings/i);
      },
    },
  ],
  "—": [
    {
      name: "is covered by another row of its provider type",
      async run(u) {
        const covered = UPSTREAMS.filter(
          (other) => other.type === u.type && verdict(table.get(other.row)?.Embeddings ?? "") === "yes",
        );
        expect(covered.length).toBeGreaterThan(0);
      },
    },
  ],
};

describe("openai SDK: embeddings", () => {
  for (const spec of UPSTREAMS) {
    const cell = table.get(spec.row)?.Embeddings;
    if (cell === undefined) continue;
    const variants = EMBEDDING_VARIANTS[verdict(cell)];
    if (!variants) {
      uncheckable(spec.row, "Embeddings", cell);
      continue;
    }
    for (const variant of variants)
      it(`${spec.row}: ${variant.name}`, () => variant.run(upstreams.get(spec.key)));
  }
});

// ------------------------------------------------------------------------------- the table and the gateway as a whole

describe("docs/providers.md", () => {
  it("has one row per upstream the matrix drives, and no other", () => {
    expect([...table.keys()].sort()).toEqual(UPSTREAMS.map((u) => u.row).sort());
  });
  for (const spec of UPSTREAMS) {
    it(`${spec.row}: lists the auth mode the matrix uses, \`${spec.auth}\``, () => {
      expect(authModes(table.get(spec.row)?.["Auth modes"] ?? "")).toContain(spec.auth);
    });
  }
});

describe("gateway", () => {
  it("lists every route through GET /v1/models", async () => {
    const ids = (await openai.models.list()).data.map((m) => m.id);
    for (const spec of UPSTREAMS) {
      expect(ids).toContain(`chat-${spec.key}`);
      if (spec.embedding) expect(ids).toContain(`embed-${spec.key}`);
    }
  });

  it("never wrote a credential into its logs", () => {
    const logs = gateway.logs.join("\n");
    expect(gateway.logs.length).toBeGreaterThan(100);
    for (const secret of upstreams.secrets) expect(logs).not.toContain(secret);
  });
});
