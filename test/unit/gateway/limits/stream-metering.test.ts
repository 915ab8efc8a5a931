import { describe, expect, it } from "vitest";
import type { ChatStreamEvent } from "../../../../src/gateway/canonical/chat.js";
import type { ConsumerAdmission } from "../../../../src/gateway/limits/consumer-limiter.js";
import { meterStream } from "../../../../src/gateway/limits/stream-metering.js";
import { GatewayError } from "../../../../src/shared/errors.js";

async function* words(n: number): AsyncGenerator<ChatStreamEvent> {
  for (let i = 0; i < n; i++) yield { type: "text-delta", text: "abcdefgh" }; // 2 tokens each
  yield { type: "finish", finishReason: "stop", rawFinishReason: "stop" };
}

function admission(tokenLimit = Infinity) {
  const charged = { tokens: 0, usd: 0 };
  const a: ConsumerAdmission = {
    consumer: { name: "c", limits: {} },
    chargeTokens: async (n) => {
      charged.tokens += n;
      if (charged.tokens > tokenLimit) throw new GatewayError("rate_limit", "over");
    },
    chargeCost: async (usd) => {
      charged.usd += usd;
    },
    settle: async () => {},
  };
  return { a, charged };
}

describe("meterStream", () => {
  it("charges the prompt's cost first and output in batches while the stream flows", async () => {
    const { a, charged } = admission();
    const seen: ChatStreamEvent[] = [];
    for await (const e of meterStream(words(20), a, { inputPer1M: 1_000_000, outputPer1M: 2_000_000 }, 5)) {
      seen.push(e);
    }
    expect(seen).toHaveLength(21);
    // 40 output tokens estimated: charged in batches of at least 16.
    expect(charged.tokens).toBe(32);
    expect(charged.usd).toBe(5 + 32 * 2);
  });

  it("stops the stream at the event whose charge crosses the limit", async () => {
    const { a } = admission(20);
    const seen: ChatStreamEvent[] = [];
    await expect(
      (async () => {
        for await (const e of meterStream(words(100), a, undefined, 0)) seen.push(e);
      })(),
    ).rejects.toThrow("over");
    expect(seen.length).toBeLessThan(20);
  });
});
