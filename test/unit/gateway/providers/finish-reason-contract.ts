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
  const cases: Array<[string | undefined, boolean, FinishReason]> = [
    ...raw.stop.flatMap((r) => [[r, false, "stop"] as const, [r, true, "tool_calls"] as const]),
    ...raw.length.flatMap((r) => [[r, false, "length"] as const, [r, true, "length"] as const]),
    ...raw.contentFilter.flatMap((r) => [
      [r, false, "content_filter"] as const,
      [r, true, "content_filter"] as const,
    ]),
    ...raw.toolCalls.flatMap((r) => [[r, false, "tool_calls"] as const, [r, true, "tool_calls"] as const]),
    ...[...raw.other, "SOMETHING_NEW", undefined].map((r) => [r, false, "stop"] as const),
  ];
  it.each(cases)("%s (tool calls seen: %s) → %s", (reason, sawToolCalls, expected) => {
    expect(map(reason, sawToolCalls)).toBe(expected);
  });
}
