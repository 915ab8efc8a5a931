import type { ChatStreamEvent } from "../canonical/chat.js";
import { costUsd, type Pricing } from "../usage/cost.js";
import { estimateTokensFromChars } from "../usage/estimate-tokens.js";
import type { ConsumerAdmission } from "./consumer-limiter.js";

/** Output tokens charged per round trip to the limit state: small enough to cut close to the limit. */
const CHARGE_EVERY_TOKENS = 16;

/**
 * Charges a stream to its consumer's tokens per minute and budget while it flows: the prompt's
 * cost with the first event, then output in small batches. A charge that crosses a limit throws,
 * which cuts the stream with an error event. Counts are estimates; settle() corrects them with the
 * upstream's usage at the end.
 */
export async function* meterStream(
  events: AsyncIterable<ChatStreamEvent>,
  admission: ConsumerAdmission,
  pricing: Pricing | undefined,
  inputTokens: number,
): AsyncGenerator<ChatStreamEvent> {
  let outputChars = 0;
  let chargedTokens = 0;
  let first = true;
  for await (const event of events) {
    if (first) {
      first = false;
      await admission.chargeCost(costUsd({ inputTokens }, pricing) ?? 0);
    }
    if (event.type === "text-delta") outputChars += event.text.length;
    else if (event.type === "tool-call-delta") outputChars += event.argumentsDelta.length;
    else if (event.type === "tool-call-start") outputChars += event.name.length;
    const due = estimateTokensFromChars(outputChars) - chargedTokens;
    if (due >= CHARGE_EVERY_TOKENS) {
      chargedTokens += due;
      await Promise.all([
        admission.chargeTokens(due),
        admission.chargeCost(costUsd({ inputTokens: 0, outputTokens: due }, pricing) ?? 0),
      ]);
    }
    yield event;
  }
}
