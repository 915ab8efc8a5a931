import type { ChatStreamEvent } from "../canonical/chat.js";
import { costUsd, type Pricing } from "../usage/cost.js";
import { estimateTokensFromChars } from "../usage/estimate-tokens.js";
import type { ConsumerAdmission } from "./consumer-limiter.js";

/** Output tokens between two reports of use: small enough to cut close to the limit. */
const REPORT_EVERY_TOKENS = 16;

/**
 * Reports a stream's use to its consumer's admission while it flows: the prompt with the first
 * event, then output in small batches. Within what the admission holds this costs nothing; a
 * stream that needs more than the limits can give is cut (the report throws, which ends the stream
 * with an error event). Counts are estimates; settle() corrects them with the upstream's usage.
 */
export async function* meterStream(
  events: AsyncIterable<ChatStreamEvent>,
  admission: ConsumerAdmission,
  pricing: Pricing | undefined,
  inputTokens: number,
): AsyncGenerator<ChatStreamEvent> {
  let outputChars = 0;
  let reportedTokens = -1;
  const report = (outputTokens: number) => {
    reportedTokens = outputTokens;
    return admission.use(inputTokens + outputTokens, costUsd({ inputTokens, outputTokens }, pricing) ?? 0);
  };
  for await (const event of events) {
    if (event.type === "text-delta") outputChars += event.text.length;
    else if (event.type === "tool-call-delta") outputChars += event.argumentsDelta.length;
    else if (event.type === "tool-call-start") outputChars += event.name.length;
    const outputTokens = estimateTokensFromChars(outputChars);
    if (reportedTokens < 0 || outputTokens - reportedTokens >= REPORT_EVERY_TOKENS)
      await report(outputTokens);
    yield event;
  }
}
