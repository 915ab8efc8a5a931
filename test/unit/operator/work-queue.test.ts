import { describe, expect, it } from "vitest";
import { WorkQueue } from "../../../src/operator/work-queue.js";

describe("WorkQueue", () => {
  it("queues a key once however many times it is added", async () => {
    const queue = new WorkQueue();
    queue.add("a");
    queue.add("b");
    queue.add("a");
    expect(queue.length).toBe(2);
    expect(await queue.get()).toBe("a");
    expect(await queue.get()).toBe("b");
  });

  it("never hands a key to two workers: an add during processing re-queues it after done()", async () => {
    const queue = new WorkQueue();
    queue.add("a");
    const key = await queue.get();
    queue.add("a");
    queue.add("a");
    expect(queue.length).toBe(0);
    let second: string | undefined;
    void queue.get().then((k) => (second = k));
    await new Promise((r) => setTimeout(r, 5));
    expect(second).toBeUndefined();
    queue.done(key!);
    await new Promise((r) => setTimeout(r, 5));
    expect(second).toBe("a");
  });

  it("backs off exponentially per key and resets after forget()", async () => {
    const queue = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 40 });
    expect(queue.addRateLimited("a")).toBe(10);
    expect(queue.addRateLimited("a")).toBe(20);
    expect(queue.addRateLimited("a")).toBe(40);
    expect(queue.addRateLimited("a")).toBe(40);
    expect(queue.failureCount("a")).toBe(4);
    queue.forget("a");
    expect(queue.addRateLimited("a")).toBe(10);
    const started = Date.now();
    expect(await queue.get()).toBe("a");
    expect(Date.now() - started).toBeGreaterThanOrEqual(5);
  });

  it("puts a priority key at the head, moving it forward if it already waits", async () => {
    const queue = new WorkQueue();
    queue.add("a");
    queue.add("snapshot");
    queue.add("b");
    queue.add("snapshot", true);
    queue.add("c", true);
    expect([await queue.get(), await queue.get(), await queue.get(), await queue.get()]).toEqual([
      "c",
      "snapshot",
      "a",
      "b",
    ]);
  });

  it("wakes waiting workers with undefined on shutdown", async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.shutdown();
    expect(await waiting).toBeUndefined();
    queue.add("late");
    expect(queue.length).toBe(0);
  });
});
