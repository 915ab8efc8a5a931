#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { startGateway } from "./gateway/gateway-main.js";
import { createDemoUpstream } from "./demo/demo-upstream.js";
import { compile, formatDiagnostic } from "./shared/compile.js";
import { loadManifests } from "./shared/manifests.js";
import { createLogger } from "./shared/logging.js";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("must be a port number (0-65535)");
  return n;
}

const program = new Command()
  .name("switchboard")
  .description("Switchboard: an LLM gateway configured by Kubernetes resources");

program
  .command("gateway")
  .description("Run the gateway from LLMProvider/LLMRoute/Secret manifests on disk (reloads on change)")
  .requiredOption("--manifests <dir>", "directory (or file) of YAML manifests")
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--port <port>", "port to listen on", port, 8080)
  .option("--no-watch", "do not reload when the manifests change")
  .option(
    "--demo-upstream [port]",
    "also start the local demo OpenAI-compatible upstream (default port 8081)",
  )
  .action(
    async (opts: {
      manifests: string;
      host: string;
      port: number;
      watch: boolean;
      demoUpstream?: string | boolean;
    }) => {
      const logger = createLogger("gateway");
      const closers: Array<() => Promise<unknown>> = [];
      if (opts.demoUpstream) {
        const demoPort = typeof opts.demoUpstream === "string" ? port(opts.demoUpstream) : 8081;
        const demo = createDemoUpstream();
        await demo.listen({ host: "127.0.0.1", port: demoPort });
        logger.info(
          { url: `http://127.0.0.1:${demoPort}/v1` },
          "DEMO upstream started: it echoes prompts; it is not a real model",
        );
        closers.push(() => demo.close());
      }
      const gateway = await startGateway({
        manifests: opts.manifests,
        host: opts.host,
        port: opts.port,
        watch: opts.watch,
        logger,
      });
      closers.unshift(() => gateway.close());
      const shutdown = async (signal: string) => {
        logger.info({ signal }, "shutting down");
        for (const close of closers) await close();
        process.exit(0);
      };
      process.once("SIGINT", () => void shutdown("SIGINT"));
      process.once("SIGTERM", () => void shutdown("SIGTERM"));
    },
  );

program
  .command("compile")
  .description("Validate manifests and print the compiled gateway config (credentials redacted)")
  .argument("<dir>", "directory (or file) of YAML manifests")
  .action(async (dir: string) => {
    const result = compile(await loadManifests(dir));
    for (const d of result.diagnostics) console.error(formatDiagnostic(d));
    if (!result.config) process.exit(1);
    const redacted = {
      ...result.config,
      providers: result.config.providers.map((p) => ({
        ...p,
        credentials:
          p.credentials.mode === "apiKey" ? { mode: "apiKey", apiKey: "[REDACTED]" } : p.credentials,
      })),
    };
    process.stdout.write(`${JSON.stringify(redacted, null, 2)}\n`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`switchboard: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
