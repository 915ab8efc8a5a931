import { describe, expect, it } from "vitest";
import { cacheKeyOf } from "../../../../src/gateway/cache/cache-key.js";
import { canonicalJson } from "../../../../src/shared/canonical-json.js";

describe("cache keys", () => {
  it("do not depend on key order or undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: "x" }, z: undefined })).toBe(
      '{"a":{"c":"x","d":[1,2]},"b":1}',
    );
    expect(cacheKeyOf({ model: "m", temperature: 0 })).toBe(
      cacheKeyOf({ temperature: 0, model: "m", user: undefined }),
    );
  });

  it("differ for any difference in the request", () => {
    const base = {
      route: "default/r",
      request: { messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }] },
    };
    const other = {
      route: "default/r",
      request: { messages: [{ role: "user", content: [{ type: "text", text: "hi!" }] }] },
    };
    expect(cacheKeyOf(base)).not.toBe(cacheKeyOf(other));
    expect(cacheKeyOf(base)).not.toBe(cacheKeyOf({ ...base, route: "default/other" }));
    expect(cacheKeyOf(base)).toMatch(/^[0-9a-f]{64}$/);
  });
});
