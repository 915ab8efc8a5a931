import { afterEach, describe, expect, it, vi } from "vitest";
import { StatusReporter } from "../../../src/migration/status-reporter.js";
import { createLogger } from "../../../src/shared/logging.js";
import type { EmbeddingMigrationStatus } from "../../../src/shared/schemas/embedding-migration.js";

const logger = createLogger("test", { level: "silent" });

function recorder() {
  const writes: EmbeddingMigrationStatus[] = [];
  return {
    writes,
    resource: {
      read: () => Promise.resolve(undefined),
      writeStatus: async (s: EmbeddingMigrationStatus) => void writes.push(s),
    },
  };
}

afterEach(() => vi.useRealTimers());

describe("StatusReporter", () => {
  it("writes a phase change at once and coalesces progress into at most one write per interval", async () => {
    vi.useFakeTimers();
    const { writes, resource } = recorder();
    const reporter = new StatusReporter(resource, logger, 2_500);
    await reporter.update({ phase: "Running" });
    expect(writes).toEqual([{ phase: "Running" }]);
    for (let done = 1; done <= 100; done++) {
      await reporter.update({ progress: { total: 100, done, failed: 0 } });
      await vi.advanceTimersByTimeAsync(50); // a batch every 50 ms for 5 s
    }
    // 100 updates over 5 s: a write at 2.5 s and one at 5 s, each with the latest counts.
    expect(writes.length).toBeLessThanOrEqual(3);
    await reporter.flush();
    expect(writes[writes.length - 1]).toEqual({
      phase: "Running",
      progress: { total: 100, done: 100, failed: 0 },
    });
    await reporter.update({ phase: "Succeeded", eta: undefined });
    expect(writes[writes.length - 1]!.phase).toBe("Succeeded");
    reporter.close();
  });

  it("keeps what it could not write and sends it with the next write", async () => {
    const writes: EmbeddingMigrationStatus[] = [];
    let fail = true;
    const reporter = new StatusReporter(
      {
        read: () => Promise.resolve(undefined),
        writeStatus: async (s) => {
          if (fail) throw new Error("API server unavailable");
          writes.push(s);
        },
      },
      logger,
      10,
    );
    await reporter.update({ phase: "Running" });
    expect(writes).toEqual([]);
    fail = false;
    await reporter.flush();
    expect(writes).toEqual([{ phase: "Running" }]);
  });
});
