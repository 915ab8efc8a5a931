import { expect, it } from "vitest";
import type {
  ChatMessage,
  ChatRequest,
  ChatStreamEvent,
  FinishReason,
} from "../../../src/gateway/canonical/chat.js";
import type { EmbeddingRequest } from "../../../src/gateway/canonical/embeddings.js";
import type { CallContext, ProviderAdapter } from "../../../src/gateway/providers/provider-adapter.js";
import { GatewayError, type ErrorClass } from "../../../src/shared/errors.js";
import { createLogger } from "../../../src/shared/logging.js";
import type { CompiledProvider, ResolvedCredentials } from "../../../src/shared/schemas/gateway-config.js";
import type { Fault, RecordedRequest } from "../../fakes/fake-http-server.js";

/*
 * Shared by the provider adapter tests, which call one adapter directly (no gateway in front)
 * against its upstream fake.
 */

export const TEST_TIMEOUTS: CompiledProvider["timeouts"] = {
  connectMs: 2_000,
  firstTokenMs: 5_000,
  idleMs: 5_000,
  totalMs: 10_000,
};

/** A provider as the compiler emits it; name and namespace come from `id` ("namespace/name"). */
export function testProvider(
  spec: Pick<CompiledProvider, "id" | "type" | "credentials" | "models"> & Partial<CompiledProvider>,
): CompiledProvider {
  const [namespace = "", name = ""] = spec.id.split("/");
  return {
    name,
    namespace,
    limits: {},
    timeouts: TEST_TIMEOUTS,
    connectionPool: { maxConnections: 1024, maxQueued: 256, queueTimeoutMs: 5000 },
    healthCheck: { intervalMs: 30_000, timeoutMs: 5_000, probe: "models" },
    circuitBreaker: { failureThreshold: 5, windowSeconds: 60, openSeconds: 30, halfOpenRequests: 1 },
    ...spec,
  };
}

/** What routing hands an adapter for one attempt. */
export function callContext(
  options: { signal?: AbortSignal; timeouts?: Partial<CallContext["timeouts"]> } = {},
): CallContext {
  return {
    signal: options.signal ?? new AbortController().signal,
    timeouts: { ...TEST_TIMEOUTS, ...options.timeouts },
  };
}

export const WEATHER_TOOL = {
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

export function user(text: string): ChatMessage {
  return { role: "user", content: [{ type: "text", text }] };
}

/** A turn that called WEATHER_TOOL twice in parallel, and both results (ids `${idPrefix}a`, `${idPrefix}b`). */
export function parallelToolHistory(idPrefix: string): ChatMessage[] {
  const call = (suffix: string, city: string) => ({
    id: `${idPrefix}${suffix}`,
    name: WEATHER_TOOL.name,
    arguments: JSON.stringify({ city }),
  });
  return [
    user("Weather in Oslo and Rome?"),
    { role: "assistant", content: "", toolCalls: [call("a", "Oslo"), call("b", "Rome")] },
    { role: "tool", toolCallId: `${idPrefix}a`, content: "Oslo: 5C" },
    { role: "tool", toolCallId: `${idPrefix}b`, content: "Rome: 20C" },
  ];
}

/** One user turn for `model`. */
export function userTurn(model: string, text: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model, messages: [user(text)], ...extra };
}

/** Requests for `model` that say "Hello there" unless the overrides replace the messages. */
export function chatRequestFor(model: string): (overrides?: Partial<ChatRequest>) => ChatRequest {
  return (overrides = {}) => userTurn(model, "Hello there", overrides);
}

/** Forgets what a shared fake recorded and drops faults a failed test left queued. */
export function resetFake(fake: { requests: RecordedRequest[]; faults: Fault[] }): void {
  fake.requests.length = 0;
  fake.faults.length = 0;
}

/** The JSON body of the last request a fake received. */
export function lastJson(fake: { requests: RecordedRequest[] }): Record<string, unknown> {
  return fake.requests.at(-1)!.json as Record<string, unknown>;
}

export async function collectStream(stream: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const events: ChatStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

/** Awaits a call that must fail with a GatewayError (of `errorClass`, when given) and returns it. */
export async function expectGatewayError(
  call: Promise<unknown>,
  errorClass?: ErrorClass,
): Promise<GatewayError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  if (errorClass) expect((err as GatewayError).errorClass).toBe(errorClass);
  return err as GatewayError;
}

/**
 * Iterates a stream that must fail: the events it yielded first, and the GatewayError (of
 * `errorClass`, when given) it threw.
 */
export async function expectStreamFailure(
  stream: AsyncIterable<ChatStreamEvent>,
  errorClass?: ErrorClass,
): Promise<{ seen: ChatStreamEvent[]; error: GatewayError }> {
  const seen: ChatStreamEvent[] = [];
  const error = await expectGatewayError(
    (async () => {
      for await (const event of stream) seen.push(event);
    })(),
    errorClass,
  );
  return { seen, error };
}

/**
 * A call of WEATHER_TOOL streamed the way clients expect: one start at index 0 (its id beginning
 * with `idPrefix`, when given), arguments in at least `minFragments` deltas at that index that join
 * into `args`, and one tool_calls finish. Returns the call, for a follow-up turn.
 */
export function expectStreamedToolCall(
  events: readonly ChatStreamEvent[],
  args: unknown,
  rawFinishReason: string,
  options: { idPrefix?: string; minFragments?: number } = {},
): { id: string; name: string; arguments: string } {
  const id =
    options.idPrefix === undefined ? expect.any(String) : expect.stringMatching(`^${options.idPrefix}`);
  const starts = events.flatMap((e) => (e.type === "tool-call-start" ? [e] : []));
  expect(starts).toEqual([
    expect.objectContaining({ type: "tool-call-start", index: 0, id, name: WEATHER_TOOL.name }),
  ]);
  const deltas = events.flatMap((e) => (e.type === "tool-call-delta" ? [e] : []));
  expect(deltas.length).toBeGreaterThanOrEqual(options.minFragments ?? 2);
  expect(deltas.every((d) => d.index === 0)).toBe(true);
  const joined = deltas.map((d) => d.argumentsDelta).join("");
  expect(JSON.parse(joined)).toEqual(args);
  expect(events.filter((e) => e.type === "finish")).toEqual([
    { type: "finish", finishReason: "tool_calls", rawFinishReason },
  ]);
  return { id: starts[0]!.id, name: WEATHER_TOOL.name, arguments: joined };
}

/** How the upstream ended the answer (a cut, a filter), with the raw reason kept: in chat and in streams. */
export async function expectFinishReason(
  adapter: ProviderAdapter,
  request: ChatRequest,
  finishReason: FinishReason,
  rawFinishReason: string,
): Promise<void> {
  expect(await adapter.chat(request, callContext())).toMatchObject({ finishReason, rawFinishReason });
  const events = await collectStream(await adapter.chatStream(request, callContext()));
  expect(events.filter((e) => e.type === "finish")).toEqual([
    { type: "finish", finishReason, rawFinishReason },
  ]);
}

/**
 * An adapter holding credentials the upstream rejects: chat, chatStream and probe (and embed, given
 * a request) each fail as `authentication`, and no message contains any of `leaks`: the keys
 * involved, and upstream text that would echo them.
 */
export async function expectCredentialsRejected(
  adapter: ProviderAdapter,
  requests: { chat: ChatRequest; embed?: EmbeddingRequest },
  leaks: readonly string[],
): Promise<GatewayError[]> {
  const calls: Array<() => Promise<unknown>> = [
    () => adapter.chat(requests.chat, callContext()),
    () => adapter.chatStream(requests.chat, callContext()),
    () => adapter.probe(callContext()),
  ];
  const { embed } = requests;
  if (embed) calls.push(() => adapter.embed(embed, callContext()));
  const errors: GatewayError[] = [];
  for (const call of calls) {
    const err = await expectGatewayError(call(), "authentication");
    for (const leak of leaks) expect(err.message).not.toContain(leak);
    errors.push(err);
  }
  return errors;
}

/**
 * Credentials the compiler could not resolve: chat fails as upstream_unavailable, naming the
 * provider and `reason`, without a request reaching the upstream.
 */
export async function expectUnresolvedCredentials(
  createAdapter: (credentials: ResolvedCredentials) => ProviderAdapter,
  request: ChatRequest,
  fake: { requests: RecordedRequest[] },
  reason: string,
): Promise<void> {
  const before = fake.requests.length;
  const adapter = createAdapter({ mode: "unresolved", reason: "SecretNotFound", message: reason });
  const err = await expectGatewayError(adapter.chat(request, callContext()), "upstream_unavailable");
  expect(err.message).toBe(`LLMProvider ${adapter.provider.id} has no usable credentials: ${reason}`);
  expect(fake.requests.length).toBe(before);
}

/** An upstream failure, caused by a trigger prompt or an injected fault, and what it must map to. */
export interface ErrorClassCase {
  /** What the upstream answers, for the test's name. */
  name: string;
  prompt?: string;
  /** Replaces fields of the request, e.g. an unknown model. */
  request?: Partial<ChatRequest>;
  fault?: Fault;
  errorClass: ErrorClass;
  /** More of the GatewayError to match, e.g. retryAfterSeconds or the message. */
  expected?: Record<string, unknown>;
}

/** The trigger prompts every fake answers with its provider's real error, and their classes. */
const TRIGGER_CLASSES = {
  TRIGGER_CONTEXT_LENGTH: "context_length_exceeded",
  TRIGGER_RATE_LIMIT: "rate_limit",
  TRIGGER_CONTENT_FILTER: "content_filter",
} as const;

export function triggerCase(
  prompt: keyof typeof TRIGGER_CLASSES,
  expected?: Record<string, unknown>,
): ErrorClassCase {
  return { name: prompt, prompt, errorClass: TRIGGER_CLASSES[prompt], expected };
}

/**
 * One test per case: chat fails with the case's class, and so does chatStream itself, before
 * resolving, so routing can still fall back.
 */
export function itMapsErrorClasses(
  setup: {
    adapter: () => ProviderAdapter;
    fake: () => { faults: Fault[] };
    request: (text: string) => ChatRequest;
  },
  cases: readonly ErrorClassCase[],
): void {
  it.each(cases)("maps $name to $errorClass, in chat and before a stream starts", async (c) => {
    const adapter = setup.adapter();
    const calls: Array<(request: ChatRequest) => Promise<unknown>> = [
      (request) => adapter.chat(request, callContext()),
      (request) => adapter.chatStream(request, callContext()),
    ];
    for (const call of calls) {
      if (c.fault) setup.fake().faults.push(c.fault);
      const request = { ...setup.request(c.prompt ?? "Hello there"), ...c.request };
      const err = await expectGatewayError(call(request), c.errorClass);
      expect(err).toMatchObject(c.expected ?? {});
    }
  });
}

/**
 * For the workload-identity tests, which own the process environment (vitest runs each file in
 * its own fork) and prove that no secret they hand out is ever written: a gateway logger, and
 * what the process writes to stdout and stderr while captured.
 */
export function watchSecrets() {
  const savedEnv = { ...process.env };
  const secrets = new Set<string>();
  const output: string[] = [];
  const gatewayLog: string[] = [];
  const originalWrites = new Map<NodeJS.WriteStream, NodeJS.WriteStream["write"]>();
  const logger = createLogger("gateway", {
    level: "debug",
    destination: { write: (line: string) => void gatewayLog.push(line) },
  });
  return {
    /** Everything secret the test handed out. */
    secrets,
    /** Copies stdout and stderr from now on, still passing them through. */
    captureOutput(): void {
      for (const stream of [process.stdout, process.stderr]) {
        const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
        originalWrites.set(stream, stream.write);
        stream.write = ((chunk: unknown, ...rest: unknown[]) => {
          output.push(String(chunk));
          return write(chunk, ...rest);
        }) as typeof stream.write;
      }
    },
    /** Puts back stdout, stderr and the environment as they were when the watch began. */
    restore(): void {
      for (const [stream, write] of originalWrites) stream.write = write;
      process.env = { ...savedEnv };
    },
    /**
     * Awaits a call that must fail with a GatewayError and writes what the gateway writes about a
     * failed call: the access log's message and, for unexpected failures, the error with its causes.
     */
    async failure(call: Promise<unknown>): Promise<GatewayError> {
      const err = await expectGatewayError(call);
      logger.error({ err, provider: err.provider }, err.message);
      return err;
    },
    /** At least `minSecrets` were handed out and logged about, and none of them was written. */
    expectNoneWritten(minSecrets: number): void {
      expect(secrets.size).toBeGreaterThan(minSecrets);
      expect(gatewayLog.length).toBeGreaterThan(0);
      const written = [...gatewayLog, ...output].join("\n");
      for (const secret of secrets) expect(written.includes(secret), "a secret was written out").toBe(false);
    },
  };
}
