import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments } from "yaml";
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

/** Parses every YAML document of one file; a List's items are flattened as kubectl does. */
export function parseManifest(text: string, source: string): SourcedObject[] {
  const objects: SourcedObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new ManifestError(source, `invalid YAML: ${doc.errors[0]!.message}`);
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

/** Reads `*.yaml`/`*.yml`/`*.json` files under a directory (recursively) or a single file. */
export async function loadManifests(target: string): Promise<SourcedObject[]> {
  const files = await listManifestFiles(target);
  const all: SourcedObject[] = [];
  for (const file of files) {
    all.push(...parseManifest(await readFile(file, "utf8"), path.relative(process.cwd(), file) || file));
  }
  return all;
}

export async function listManifestFiles(target: string): Promise<string[]> {
  const entries = await readdir(target, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOTDIR") return null;
    throw err;
  });
  if (entries === null) return [target];
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(target, entry.name);
    if (entry.isDirectory()) files.push(...(await listManifestFiles(full)));
    else if (/\.(ya?ml|json)$/.test(entry.name)) files.push(full);
  }
  return files;
}
