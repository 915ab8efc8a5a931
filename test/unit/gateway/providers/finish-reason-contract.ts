import { expect, it } from "vitest";
import type { FinishReason } from "../../../../src/gateway/canonical/chat.js";

/**
 * The canonical finish reasons every provider's mapper must give: each raw reason the upstream
 * documents lands in its class; a turn that produced tool calls ends in tool_calls unless it was
 * cut (length) or filtered; a missing reason, or one the mapper does not know, ends as stop.
 */
export function itMapsFinishReasons(
  map: (raw: string | undefined, sawToolCalls: boolean) => FinishReason,
  raw: {
    stop: readonly string[];
    length: readonly string[];
    contentFilter: readonly string[];
    toolCalls: readonly string[];
    /** Reasons that are none of the above, such as a malformed tool call. */
    other: readonly string[];
  },
): void {
  type Case = [raw: string | undefined, sawToolCalls: boolean, expected: FinishReason];
  const both = (r: string, without: FinishReason, withTools: FinishReason): Case[] => [
    [r, false, without],
    [r, true, withTools],
  ];
  const cases: Case[] = [
    ...raw.stop.flatMap((r) => both(r, "stop", "tool_calls")),
    ...raw.length.flatMap((r) => both(r, "length", "length")),
    ...raw.contentFilter.flatMap((r) => both(r, "content_filter", "content_filter")),
    ...raw.toolCalls.flatMap((r) => both(r, "tool_calls", "tool_calls")),
    ...[...raw.other, "SOMETHING_NEW", undefined].map((r): Case => [r, false, "stop"]),
  ];
  it.each(cases)("%s (tool calls seen: %s) → %s", (reason, sawToolCalls, expected) => {
    expect(map(reason, sawToolCalls)).toBe(expected);
  });
}
