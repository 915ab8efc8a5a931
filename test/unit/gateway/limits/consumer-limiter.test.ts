import { describe, expect, it } from "vitest";
import type { CompiledConsumer, CompiledRoute } from "../../../../src/shared/schemas/gateway-config.js";
import { ConsumerLimiter } from "../../../../src/gateway/limits/consumer-limiter.js";
import type { Reservation } from "../../../../src/gateway/limits/request-reservation.js";
import { GatewayMetrics } from "../../../../src/gateway/metrics.js";
import { LimitExceededError } from "../../../../src/gateway/limits/limit-exceeded-error.js";
import { MemorySharedState } from "../../../../src/gateway/shared-state/memory-shared-state.js";

const route = { id: "default/chat" } as CompiledRoute;

/** What a request holds: `tokens` of prompt (no answer) and `usd` of worst-case spend. */
function held(tokens: number, usd = 0, outputTokens = 0): Reservation {
  return { promptTokens: tokens, outputTokens, usd };
}

function setup(consumer: Partial<CompiledConsumer>, start = Date.parse("2026-05-10T12:00:00Z")) {
  const clock = { now: start };
  const state = new MemorySharedState({ now: () => clock.now });
  const limiter = new ConsumerLimiter(state, () => clock.now);
  const full: CompiledConsumer = { name: "team-a", limits: {}, ...consumer };
  return { clock, limiter, consumer: full };
}

async function refusal(promise: Promise<unknown>): Promise<LimitExceededError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LimitExceededError);
  return err as LimitExceededError;
}

describe("ConsumerLimiter", () => {
  it("refuses the request after its requests-per-minute with 429 and the wait in Retry-After", async () => {
    const { limiter, consumer, clock } = setup({ limits: { requestsPerMinute: 2 } });
    await limiter.admit(route, consumer, held(10));
    await limiter.admit(route, consumer, held(10));
    const err = await refusal(limiter.admit(route, consumer, held(10)));
    expect(err.httpStatus).toBe(429);
    expect(err.retryAfterSeconds).toBe(30);
    expect(err.message).toContain(
      'consumer "team-a" on route default/chat is over its limit of 2 requests per minute',
    );
    clock.now += 30_000;
    await limiter.admit(route, consumer, held(10));
  });

  it("reserves the prompt's tokens and gives back what the answer did not use", async () => {
    const { limiter, consumer } = setup({ limits: { tokensPerMinute: 1_000 } });
    const first = await limiter.admit(route, consumer, held(600));
    await refusal(limiter.admit(route, consumer, held(600)));
    // The upstream reported 300 tokens in all: 300 of the 600 come back.
    await first.settle(300, 0);
    await limiter.admit(route, consumer, held(600));
  });

  it("does not count a request refused for tokens against requests per minute", async () => {
    const { limiter, consumer } = setup({ limits: { requestsPerMinute: 2, tokensPerMinute: 100 } });
    const first = await limiter.admit(route, consumer, held(100));
    const err = await refusal(limiter.admit(route, consumer, held(50)));
    expect(err.message).toContain("tokens per minute");
    await first.settle(0, 0);
    // The refused request did not use the second request of the minute.
    await limiter.admit(route, consumer, held(50));
    expect((await refusal(limiter.admit(route, consumer, held(1)))).message).toContain("requests per minute");
  });

  it("names the first limit crossed, with its own wait, when a request crosses several", async () => {
    const { limiter, consumer } = setup({ limits: { requestsPerMinute: 1, tokensPerMinute: 100 } });
    await limiter.admit(route, consumer, held(100));
    const err = await refusal(limiter.admit(route, consumer, held(100)));
    expect(err.message).toContain("over its limit of 1 requests per minute");
    expect(err.retryAfterSeconds).toBe(60);
  });

  it("does not count a request refused for its budget against requests or tokens per minute", async () => {
    const { limiter, consumer, clock } = setup(
      { limits: { requestsPerMinute: 2, tokensPerMinute: 100 }, budget: { usd: 1, period: "hour" } },
      Date.parse("2026-05-10T12:59:59Z"),
    );
    await (await limiter.admit(route, consumer, held(50))).settle(50, 1);
    expect((await refusal(limiter.admit(route, consumer, held(50)))).scope).toBe("budget");
    // A second later the budget's hour is over; the refused request left its request and tokens.
    clock.now += 1_000;
    await limiter.admit(route, consumer, held(50));
  });

  it("holds a request's worst case, so requests in flight together cannot pass the tokens per minute", async () => {
    const { limiter, consumer } = setup({ limits: { tokensPerMinute: 100 } });
    // 10 prompt tokens and up to 30 for the answer: two fit in flight, not a third.
    const first = await limiter.admit(route, consumer, held(10, 0, 30));
    await limiter.admit(route, consumer, held(10, 0, 30));
    const err = await refusal(limiter.admit(route, consumer, held(10, 0, 30)));
    expect(err.message).toContain(
      "over its limit of 100 tokens per minute: this request needs up to 40 (10 for its prompt, 30 for the answer",
    );
    // The first answer used 15 tokens: the 25 it did not use come back, and the third fits.
    await first.settle(15, 0);
    await limiter.admit(route, consumer, held(10, 0, 30));
  });

  it("lets a stream use what it holds, asks for more beyond it, and cuts it when there is none", async () => {
    const { limiter, consumer } = setup({ limits: { tokensPerMinute: 100 } });
    const admission = await limiter.admit(route, consumer, held(20, 0, 20));
    await admission.use(40, 0);
    // Past its 40 (the prompt estimate fell short): 30 more of the 60 left are granted...
    await admission.use(70, 0);
    await limiter.admit(route, consumer, held(30));
    // ...and nothing is left for more.
    const err = await refusal(admission.use(71, 0));
    expect(err.message).toContain("went over its limit of 100 tokens per minute; the response was cut");
  });

  it("cuts a stream of a request larger than the whole bucket once it uses more than the bucket holds", async () => {
    const { limiter, consumer } = setup({ limits: { tokensPerMinute: 100 } });
    const admission = await limiter.admit(route, consumer, held(50, 0, 200));
    await admission.use(100, 0);
    await refusal(admission.use(101, 0));
  });

  it("holds a request's worst-case spend, so requests in flight together cannot pass the budget", async () => {
    const { limiter, consumer } = setup({ budget: { usd: 1, period: "hour" } });
    const first = await limiter.admit(route, consumer, held(10, 0.4));
    await limiter.admit(route, consumer, held(10, 0.4));
    const err = await refusal(limiter.admit(route, consumer, held(10, 0.4)));
    expect(err.scope).toBe("budget");
    expect(err.message).toContain(
      "has $1.00 left of its budget of $1.00 per hour ($0.00 used), of which requests in flight hold $0.800, and this request could cost up to $0.400; retry when they finish",
    );
    expect(err.retryAfterSeconds).toBe(1);
    // The first cost $0.10: its hold is given back, the spend kept.
    await first.settle(10, 0.1);
    await limiter.admit(route, consumer, held(10, 0.4));
    const spent = await refusal(limiter.admit(route, consumer, held(10, 0.2)));
    expect(spent.message).toContain("($0.100 used), of which requests in flight hold $0.800");
  });

  it("refuses a request whose worst case is more than the budget has left, saying to lower max_tokens", async () => {
    const { limiter, consumer } = setup(
      { budget: { usd: 1, period: "day" } },
      Date.parse("2026-05-10T12:00:00Z"),
    );
    await (await limiter.admit(route, consumer, held(10, 0.1))).settle(10, 0.7);
    const err = await refusal(limiter.admit(route, consumer, held(10, 0.5)));
    expect(err.message).toContain(
      "has $0.300 left of its budget of $1.00 per day ($0.700 used), and this request could cost up to $0.500; lower max_tokens, or wait: it resets at 2026-05-11T00:00:00.000Z",
    );
    expect(err.retryAfterSeconds).toBe(12 * 3600);
    await limiter.admit(route, consumer, held(10, 0.3));
  });

  it("gives back everything a failed request held", async () => {
    const { limiter, consumer } = setup({
      limits: { tokensPerMinute: 100 },
      budget: { usd: 1, period: "hour" },
    });
    await (await limiter.admit(route, consumer, held(50, 1, 50))).settle(0, 0);
    await limiter.admit(route, consumer, held(50, 1, 50));
  });

  it("refuses once the period's budget is spent, naming the budget and when it resets", async () => {
    const { limiter, consumer, clock } = setup({ budget: { usd: 0.01, period: "day" } });
    const first = await limiter.admit(route, consumer, held(10));
    await first.settle(10, 0.004);
    const second = await limiter.admit(route, consumer, held(10));
    await second.settle(10, 0.007);
    const err = await refusal(limiter.admit(route, consumer, held(10)));
    expect(err.scope).toBe("budget");
    expect(err.message).toContain("budget of $0.0100 per day");
    expect(err.message).toContain("$0.0110 used");
    expect(err.message).toContain("resets at 2026-05-11T00:00:00.000Z");
    expect(err.retryAfterSeconds).toBe(12 * 3600);
    clock.now = Date.parse("2026-05-11T00:00:01Z");
    await limiter.admit(route, consumer, held(10));
  });

  it("cuts a stream whose spend needs more than the budget has left", async () => {
    const { limiter, consumer } = setup({ budget: { usd: 1, period: "hour" } });
    const admission = await limiter.admit(route, consumer, held(10, 0.5));
    await admission.use(10, 0.5);
    await admission.use(10, 0.9);
    const err = await refusal(admission.use(10, 1.1));
    expect(err.scope).toBe("budget");
    expect(err.message).toContain("the response was cut");
  });

  it("keeps consumers of one route apart", async () => {
    const { limiter } = setup({});
    const a: CompiledConsumer = { name: "a", limits: { requestsPerMinute: 1 } };
    const b: CompiledConsumer = { name: "b", limits: { requestsPerMinute: 1 } };
    await limiter.admit(route, a, held(1));
    await limiter.admit(route, b, held(1));
    await refusal(limiter.admit(route, a, held(1)));
  });

  it("exports each budget's spend and size until its period ends (switchboard_budget_*_usd)", async () => {
    const clock = { now: Date.parse("2026-05-10T12:00:00Z") };
    const metrics = new GatewayMetrics();
    const limiter = new ConsumerLimiter(
      new MemorySharedState({ now: () => clock.now }),
      () => clock.now,
      metrics,
    );
    const consumer: CompiledConsumer = { name: "team-a", limits: {}, budget: { usd: 2, period: "day" } };
    const gauges = async () => {
      const text = await metrics.registry.metrics();
      return text.split("\n").filter((line) => line.startsWith("switchboard_budget_"));
    };
    expect(await gauges()).toEqual([]);
    await (await limiter.admit(route, consumer, held(10))).settle(10, 0.5);
    await (await limiter.admit(route, consumer, held(10))).settle(10, 1.25);
    const labels = '{route="default/chat",consumer="team-a",period="day"}';
    expect(await gauges()).toEqual([
      `switchboard_budget_spent_usd${labels} 1.75`,
      `switchboard_budget_limit_usd${labels} 2`,
    ]);
    clock.now = Date.parse("2026-05-11T00:00:00Z");
    expect(await gauges()).toEqual([]);
  });

  it("counts a team once across routes, beside each route's own limits, and cuts a stream at the team's budget", async () => {
    const team = {
      id: "default/search",
      limits: { requestsPerMinute: 3 },
      budget: { usd: 1, period: "day" as const },
    };
    const { limiter, consumer } = setup({ limits: { requestsPerMinute: 2 }, team });
    const other = { id: "default/embed", namespace: "default" } as CompiledRoute;
    const chat = { ...route, namespace: "default" } as CompiledRoute;
    await limiter.admit(chat, consumer, held(10));
    await limiter.admit(chat, consumer, held(10));
    // The route's own limit refuses first, naming the route.
    expect((await refusal(limiter.admit(chat, consumer, held(10)))).message).toContain(
      'consumer "team-a" on route default/chat is over its limit of 2 requests per minute',
    );
    const stream = await limiter.admit(other, consumer, held(10, 0.4));
    expect((await refusal(limiter.admit(other, consumer, held(10)))).message).toContain(
      'team "search" of namespace default (consumer "team-a" on route default/embed) is over its limit of 3 requests per minute',
    );
    // A stream that needs more than the team has left is cut.
    await stream.use(10, 0.9);
    expect((await refusal(stream.use(10, 1.2))).message).toMatch(
      /team "search" .* left of its budget of \$1.00 per day.*the response was cut$/,
    );
  });
});
