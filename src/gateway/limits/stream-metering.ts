import type { ChatStreamEvent } from "../canonical/chat.js";
import { costUsd, type Pricing } from "../usage/cost.js";
import { estimateTokensFromChars } from "../usage/estimate-tokens.js";
import type { ConsumerAdmission } from "./consumer-limiter.js";

/** Output tokens charged per round trip to the limit state: small enough to cut close to the limit. */
const CHARGE_EVERY_TOKENS = 16;

/**
 * Charges a stream's output to its consumer's tokens-per-minute and budget while it flows. The
 * counts are estimates (the upstream's usage arrives at the end); settle() later corrects them.
 */
export async function* meterStream(
  events: AsyncIterable<ChatStreamEvent>,
  admission: ConsumerAdmission,
  pricing: Pricing | undefined,
): AsyncGenerator<ChatStreamEvent> {
  let outputChars = 0;
  let chargedTokens = 0;
  for await (const event of events) {
    if (event.type === "text-delta") outputChars += event.text.length;
    else if (event.type === "tool-call-delta") outputChars += event.argumentsDelta.length;
    else if (event.type === "tool-call-start") outputChars += event.name.length;
    const due = estimateTokensFromChars(outputChars) - chargedTokens;
    if (due >= CHARGE_EVERY_TOKENS) {
      chargedTokens += due;
      await admission.chargeTokens(due);
      await admission.chargeCost(costUsd({ inputTokens: 0, outputTokens: due }, pricing) ?? 0);
    }
    yield event;
  }
}
