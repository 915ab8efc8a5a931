/**
 * Writes crds/*.yaml and the field reference docs/reference/*.md from the zod schemas
 * (`npm run crds`), or with --check exits 1 when the committed files differ from what the
 * schemas generate (CI).
 *
 *   tsx scripts/generate-crds.ts [--check] [--dir <crds dir>] [--reference-dir <dir>]
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  describeDrift,
  findCrdDrift,
  renderCrdFiles,
  writeCrdFiles,
  type CrdFile,
} from "../src/shared/crd/crd-files.js";
import { renderReferenceFiles } from "../src/shared/crd/crd-reference.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      check: { type: "boolean", default: false },
      dir: { type: "string" },
      "reference-dir": { type: "string" },
    },
  });
  const outputs: { dir: string; files: CrdFile[] }[] = [
    { dir: path.resolve(values.dir ?? path.join(repoRoot, "crds")), files: renderCrdFiles() },
    {
      dir: path.resolve(values["reference-dir"] ?? path.join(repoRoot, "docs", "reference")),
      files: renderReferenceFiles(),
    },
  ];
  let failed = false;
  for (const { dir, files } of outputs) {
    const shown = path.relative(process.cwd(), dir) || ".";
    if (values.check) {
      const drift = await findCrdDrift(dir, files);
      if (drift.length > 0) {
        console.error(describeDrift(drift, shown));
        failed = true;
      } else process.stdout.write(`${shown}: ${files.length} files match the zod schemas\n`);
      continue;
    }
    const { written, removed } = await writeCrdFiles(dir, files);
    for (const file of written) process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    for (const file of removed)
      process.stdout.write(`removed ${path.relative(process.cwd(), file)} (no longer generated)\n`);
  }
  return failed ? 1 : 0;
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
