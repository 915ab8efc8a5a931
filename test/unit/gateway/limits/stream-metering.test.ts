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
  const reports: Array<[number, number]> = [];
  const a: ConsumerAdmission = {
    consumer: { name: "c", limits: {} },
    use: async (tokens, usd) => {
      reports.push([tokens, usd]);
      if (tokens > tokenLimit) throw new GatewayError("rate_limit", "over");
    },
    settle: async () => {},
  };
  return { a, reports };
}

describe("meterStream", () => {
  it("reports the prompt with the first event, then its total use every 16 output tokens", async () => {
    const { a, reports } = admission();
    const seen: ChatStreamEvent[] = [];
    for await (const e of meterStream(words(20), a, { inputPer1M: 1_000_000, outputPer1M: 2_000_000 }, 5)) {
      seen.push(e);
    }
    expect(seen).toHaveLength(21);
    // 40 output tokens estimated, reported as totals (prompt included) at $1 and $2 a token.
    expect(reports).toEqual([
      [5 + 2, 5 + 4],
      [5 + 18, 5 + 36],
      [5 + 34, 5 + 68],
    ]);
  });

  it("stops the stream at the event whose report needs more than the limits give", async () => {
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
