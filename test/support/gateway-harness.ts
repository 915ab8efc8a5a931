import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { createLogger } from "../../src/shared/logging.js";
import { startGateway, type GatewayOptions, type RunningGateway } from "../../src/gateway/gateway-main.js";

export interface TestGateway extends RunningGateway {
  dir: string;
  /** Every JSON log line the gateway wrote, for assertions (e.g. that no secret leaked). */
  logs: string[];
  writeManifest(name: string, yaml: string): Promise<void>;
}

/** Starts an in-process gateway on a random port from manifests written to a temp directory. */
export async function startTestGateway(
  files: Record<string, string>,
  options: {
    watch?: boolean;
    /** Further startGateway options, e.g. redisUrl or tokenReview. */
    gateway?: Partial<Omit<GatewayOptions, "manifests" | "logger">>;
  } = {},
): Promise<TestGateway> {
  const dir = await mkdtemp(path.join(tmpdir(), "switchboard-gw-"));
  for (const [name, yaml] of Object.entries(files)) await writeFile(path.join(dir, name), yaml);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  const logger = createLogger("gateway", { level: "debug", destination: sink });
  const gateway = await startGateway({
    manifests: dir,
    host: "127.0.0.1",
    port: 0,
    // The admin listener serves /admin/state and /metrics.
    adminPort: 0,
    watch: options.watch ?? false,
    logger,
    ...options.gateway,
  });
  return {
    ...gateway,
    dir,
    logs,
    writeManifest: (name, yaml) => writeFile(path.join(dir, name), yaml),
    close: async () => {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
