import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const HEADER =
  "# Benchmarks\n\nResults of `npm run bench`, one section per benchmark; each run replaces its own section.\n";

/**
 * Replaces the section between `<!-- bench:<id> -->` and `<!-- /bench:<id> -->` in the
 * benchmarks page (appending it when absent), leaving every other section as it is.
 */
export async function writeSection(file: string, id: string, markdown: string): Promise<void> {
  const start = `<!-- bench:${id} -->`;
  const end = `<!-- /bench:${id} -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  let text = HEADER;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  const next =
    from >= 0 && to > from
      ? text.slice(0, from) + block + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, next);
}
