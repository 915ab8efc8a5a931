import { describe, expect, it } from "vitest";
import { EventStreamCodec } from "@smithy/eventstream-codec";
import { fromUtf8, toUtf8 } from "@smithy/util-utf8";
import { encodeEventFrame } from "../../../../fakes/bedrock-fake.js";

/** The codec the Bedrock SDK decodes ConverseStream with, fed the fake's frames. */
const codec = new EventStreamCodec(toUtf8, fromUtf8);

describe("AWS event-stream frames", () => {
  it("decode by their headers when the CRCs are intact", () => {
    const message = codec.decode(
      encodeEventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "Hi" } }),
    );
    expect(message.headers[":message-type"]?.value).toBe("event");
    expect(message.headers[":event-type"]?.value).toBe("contentBlockDelta");
    expect(JSON.parse(toUtf8(message.body))).toMatchObject({ delta: { text: "Hi" } });
  });

  it("are rejected, not parsed, when a payload byte is corrupted", () => {
    const frame = encodeEventFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "Hi" } });
    const at = frame.length - 8;
    frame[at] = frame[at]! ^ 0x01;
    expect(() => codec.decode(frame)).toThrow(/checksum/i);
  });

  it("are rejected when the prelude (length) is corrupted", () => {
    const frame = encodeEventFrame("messageStop", { stopReason: "end_turn" });
    frame[3] = frame[3]! ^ 0x01;
    expect(() => codec.decode(frame)).toThrow();
  });
});
