import { describe, expect, it } from "vitest";
import {
  toolCallFromClientId,
  toolCallIdForClient,
  upstreamToolCallId,
} from "../../../../src/gateway/ingress/tool-call-id-carrier.js";

describe("tool call id carrier", () => {
  it("leaves ids without reasoning state as the upstream made them", () => {
    expect(toolCallIdForClient({ id: "toolu_01" })).toBe("toolu_01");
    expect(toolCallFromClientId("toolu_01")).toEqual({ id: "toolu_01", reasoning: [] });
  });

  it("round-trips a signature through the id a client echoes", () => {
    const signature = { origin: "gemini", value: "CiQB+/x=" };
    const clientId = toolCallIdForClient({ id: "call_abc_0", signature });
    expect(clientId).toMatch(/^call_abc_0~sb1~[A-Za-z0-9_-]+$/);
    expect(toolCallFromClientId(clientId)).toEqual({ id: "call_abc_0", signature, reasoning: [] });
    expect(upstreamToolCallId(clientId)).toBe("call_abc_0");
  });

  it("carries a turn's signed reasoning, and only that, in its first call's id", () => {
    const signed = {
      type: "thinking" as const,
      text: "hmm",
      signature: { origin: "anthropic", value: "c2ln" },
    };
    const redacted = { type: "redacted" as const, data: { origin: "anthropic", value: "ZW5j" } };
    const clientId = toolCallIdForClient({ id: "toolu_1" }, [
      signed,
      { type: "thinking", text: "unsigned" },
      redacted,
    ]);
    expect(toolCallFromClientId(clientId)).toEqual({ id: "toolu_1", reasoning: [signed, redacted] });
  });

  it("keeps the upstream id when a client mangled the carried state", () => {
    expect(toolCallFromClientId("call_abc_0~sb1~not-json")).toEqual({ id: "call_abc_0", reasoning: [] });
  });
});
