import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments, type YAMLError } from "yaml";
import type { SourcedObject } from "./compile.js";

export class ManifestError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = "ManifestError";
  }
}

/**
 * Where and what the YAML error is, without the quoted source the parser adds: in a Secret
 * manifest, that line is the credential.
 */
function describeYamlError(error: YAMLError, text: string): string {
  // "Unresolved tag: !x" and the like quote source after a colon.
  const what = error.message.split("\n")[0]!.replace(/:.*$/, "");
  const before = text.slice(0, error.pos[0]).split("\n");
  return `invalid YAML at line ${before.length}, column ${before[before.length - 1]!.length + 1}: ${what}`;
}

/**
 * Parses every YAML document of one file; a List's items are flattened as kubectl does. YAML 1.1,
 * as kubectl and Helm read it (an unquoted `on:` key is the boolean true there), so a file means
 * the same here as it does applied to a cluster.
 */
export function parseManifest(text: string, source: string): SourcedObject[] {
  const objects: SourcedObject[] = [];
  for (const doc of parseAllDocuments(text, { prettyErrors: false, version: "1.1" })) {
    if (doc.errors.length > 0) throw new ManifestError(source, describeYamlError(doc.errors[0]!, text));
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new ManifestError(source, "each YAML document must be a Kubernetes object (a mapping)");
    }
    const list = value as { kind?: string; items?: unknown[] };
    if (typeof list.kind === "string" && list.kind.endsWith("List") && Array.isArray(list.items)) {
      for (const item of list.items) objects.push({ object: item, source });
    } else {
      objects.push({ object: value, source });
    }
  }
  return objects;
}

/**
 * Reads `*.yaml`/`*.yml`/`*.json` files under a directory (recursively) or a single file.
 * Hidden entries are skipped: a ConfigMap or Secret volume holds each key twice more, in the
 * kubelet's `..<timestamp>/` directory and through its `..data` symlink, next to the per-key
 * symlinks a user sees. Symlinks are followed, so keys mounted at nested paths load too.
 */
export async function loadManifests(target: string): Promise<SourcedObject[]> {
  const files = await listManifestFiles(target);
  const all: SourcedObject[] = [];
  for (const file of files) {
    all.push(...parseManifest(await readFile(file, "utf8"), path.relative(process.cwd(), file) || file));
  }
  return all;
}

export async function listManifestFiles(target: string): Promise<string[]> {
  if (!(await stat(target)).isDirectory()) return [target];
  return listDirectory(target, new Set());
}

/** `visited` holds the real paths of the directories on the way down, so a symlink loop ends. */
async function listDirectory(dir: string, visited: Set<string>): Promise<string[]> {
  const real = await realpath(dir);
  if (visited.has(real)) return [];
  visited.add(real);
  const files: string[] = [];
  for (const name of (await readdir(dir)).sort((a, b) => a.localeCompare(b))) {
    if (name.startsWith(".")) continue;
    const full = path.join(dir, name);
    const entry = await stat(full).catch((err: NodeJS.ErrnoException) => {
      // A dangling symlink (an editor's lock file, a key removed mid-swap) is not a manifest.
      if (err.code === "ENOENT") return null;
      throw err;
    });
    if (entry?.isDirectory()) files.push(...(await listDirectory(full, visited)));
    else if (entry?.isFile() && /\.(ya?ml|json)$/.test(name)) files.push(full);
  }
  visited.delete(real);
  return files;
}
