import { describe, expect, it } from "vitest";
import {
  toolCallFromClientId,
  toolCallIdForClient,
  upstreamToolCallId,
} from "../../../../src/gateway/ingress/tool-call-id-carrier.js";

describe("tool call id carrier", () => {
  it("leaves ids without reasoning state as the upstream made them", () => {
    expect(toolCallIdForClient({ id: "toolu_01" })).toBe("toolu_01");
    expect(toolCallFromClientId("toolu_01")).toEqual({ id: "toolu_01" });
  });

  it("round-trips a signature through the id a client echoes", () => {
    const signature = { origin: "gemini", value: "CiQB+/x=" };
    const clientId = toolCallIdForClient({ id: "call_abc_0", signature });
    expect(clientId).toMatch(/^call_abc_0~sb1~[A-Za-z0-9_-]+$/);
    expect(toolCallFromClientId(clientId)).toEqual({ id: "call_abc_0", signature });
    expect(upstreamToolCallId(clientId)).toBe("call_abc_0");
  });

  it("keeps the upstream id when a client mangled the carried state", () => {
    expect(toolCallFromClientId("call_abc_0~sb1~not-json")).toEqual({ id: "call_abc_0" });
  });
});
