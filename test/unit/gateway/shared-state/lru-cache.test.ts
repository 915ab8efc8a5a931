import { describe, expect, it } from "vitest";
import { LruCache } from "../../../../src/gateway/shared-state/lru-cache.js";

describe("LruCache", () => {
  it("evicts the least recently used entry beyond its entry bound", () => {
    const cache = new LruCache(2, 1_000);
    cache.set("a", "1", 60_000);
    cache.set("b", "2", 60_000);
    expect(cache.get("a")).toBe("1"); // a is now the most recent
    cache.set("c", "3", 60_000);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe("1");
    expect(cache.get("c")).toBe("3");
  });

  it("evicts old entries until the total size fits, and refuses a value larger than the bound", () => {
    const cache = new LruCache(100, 10);
    cache.set("a", "xxxx", 60_000);
    cache.set("b", "yyyy", 60_000);
    cache.set("c", "zzzz", 60_000);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.totalChars).toBe(8);
    cache.set("huge", "x".repeat(11), 60_000);
    expect(cache.get("huge")).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it("replacing a key keeps the size accounting exact", () => {
    const cache = new LruCache(10, 100);
    cache.set("a", "12345", 60_000);
    cache.set("a", "12", 60_000);
    expect(cache.totalChars).toBe(2);
    expect(cache.size).toBe(1);
  });

  it("drops an expired entry on read", () => {
    let now = 0;
    const cache = new LruCache(10, 100, () => now);
    cache.set("a", "v", 100);
    now = 99;
    expect(cache.get("a")).toBe("v");
    now = 100;
    expect(cache.get("a")).toBeUndefined();
    expect(cache.totalChars).toBe(0);
  });
});
