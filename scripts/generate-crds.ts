/**
 * Writes crds/*.yaml from the zod schemas (`npm run crds`), or with --check
 * exits 1 when the committed files differ from what the schemas generate (CI).
 *
 *   tsx scripts/generate-crds.ts [--check] [--dir <crds dir>]
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { describeDrift, findCrdDrift, renderCrdFiles, writeCrdFiles } from "../src/shared/crd/crd-files.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { check: { type: "boolean", default: false }, dir: { type: "string" } },
  });
  const dir = path.resolve(values.dir ?? path.join(repoRoot, "crds"));
  const shown = path.relative(process.cwd(), dir) || ".";
  const files = renderCrdFiles();
  if (values.check) {
    const drift = await findCrdDrift(dir, files);
    if (drift.length > 0) {
      console.error(describeDrift(drift, shown));
      return 1;
    }
    process.stdout.write(`${shown}: ${files.length} CRDs match the zod schemas\n`);
    return 0;
  }
  const { written, removed } = await writeCrdFiles(dir, files);
  for (const file of written) process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  for (const file of removed)
    process.stdout.write(`removed ${path.relative(process.cwd(), file)} (no longer generated)\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
