import { describe, expect, it } from "vitest";
import { filterByCapability } from "../../../../src/gateway/routing/capability-filter.js";
import { chatNeeds, embeddingNeeds } from "../../../../src/gateway/routing/request-needs.js";
import type { GatewayError } from "../../../../src/shared/errors.js";
import { CHAT_NEEDS, candidates, names, route } from "./routing-fixtures.js";

const r = route([]);

function failure(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error("expected an error");
}

describe("capability filter", () => {
  const list = candidates([
    { name: "small", model: { contextWindow: 1000, maxOutputTokens: 500, supportsTools: false } },
    { name: "large", model: { contextWindow: 100_000, maxOutputTokens: 8000 } },
    { name: "unknown-limits" },
  ]);

  it("keeps every target when the request fits, in the same order", () => {
    expect(filterByCapability(r, list, CHAT_NEEDS)).toBe(list);
  });

  it("drops targets whose window cannot hold the estimated prompt plus the requested output", () => {
    const needs = { ...CHAT_NEEDS, contextTokens: 900, inputTokens: 900, maxOutputTokens: 200 };
    expect(names(filterByCapability(r, list, needs))).toEqual(["large", "unknown-limits"]);
  });

  it("drops targets without tool support when the request offers tools or carries tool calls", () => {
    const needs = chatNeeds({
      messages: [
        { role: "user", content: [{ type: "text", text: "weather?" }] },
        { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "weather", arguments: "{}" }] },
        { role: "tool", toolCallId: "c1", content: "sunny" },
      ],
    });
    expect(needs.tools).toBe(true);
    expect(names(filterByCapability(r, list, needs))).toEqual(["large", "unknown-limits"]);
  });

  it("drops targets that write fewer output tokens than max_tokens asks for", () => {
    expect(names(filterByCapability(r, list, { ...CHAT_NEEDS, maxOutputTokens: 600 }))).toEqual([
      "large",
      "unknown-limits",
    ]);
  });

  it("fails with context_length_exceeded naming every target when the prompt fits none", () => {
    const tight = candidates([
      { name: "a", model: { contextWindow: 1000 } },
      { name: "b", model: { contextWindow: 4000 } },
    ]);
    const err = failure(() =>
      filterByCapability(r, tight, { ...CHAT_NEEDS, contextTokens: 5000, inputTokens: 5000 }),
    );
    expect(err.errorClass).toBe("context_length_exceeded");
    expect(err.message).toContain(
      "default/a/m has a 1000-token context window; the request needs about 5000 prompt tokens",
    );
    expect(err.message).toContain("default/b/m has a 4000-token context window");
    expect(err.message).toContain("route default/r");
  });

  it("fails with invalid_request naming the missing capability otherwise", () => {
    const noTools = candidates([{ name: "a", model: { supportsTools: false } }]);
    const err = failure(() => filterByCapability(r, noTools, { ...CHAT_NEEDS, tools: true }));
    expect(err.errorClass).toBe("invalid_request");
    expect(err.param).toBe("tools");
    expect(err.message).toContain("default/a/m does not support tools");
  });

  it("checks embedding dimensions and the longest input against the window", () => {
    const embedders = candidates([
      { name: "e256", model: { kind: "embedding", dimensions: 256, contextWindow: 8191 } },
      { name: "e1536", model: { kind: "embedding", dimensions: 1536, contextWindow: 8191 } },
    ]);
    expect(names(filterByCapability(r, embedders, embeddingNeeds(["hello"], 1024)))).toEqual(["e1536"]);
    const err = failure(() => filterByCapability(r, embedders, embeddingNeeds(["hello"], 3072)));
    expect(err.errorClass).toBe("invalid_request");
    expect(err.param).toBe("dimensions");
    expect(err.message).toContain("produces 1536 dimensions, fewer than the 3072 requested");
    const longest = embeddingNeeds(["short", "x".repeat(40_000)], undefined);
    expect(longest.contextTokens).toBe(10_000);
    expect(failure(() => filterByCapability(r, embedders, longest)).errorClass).toBe(
      "context_length_exceeded",
    );
  });
});
