import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("switchboard operator --help", () => {
  it("shows duration defaults as docs/operator.md writes them", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", path.join(ROOT, "src/cli.ts"), "operator", "--help"],
      { cwd: ROOT },
    );
    const help = stdout.replace(/\s+/g, " ");
    expect(help).toContain("how often to read the gateways' /admin/state (default: 10s)");
    expect(help).toContain("how long a standby waits for a silent leader (default: 15s)");
    expect(help).toContain("before stepping down (default: 10s)");
    expect(help).toContain("time between lease attempts (default: 2s)");
  }, 60_000);
});
