import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * Reads the support table of docs/providers.md, so the end-to-end matrix runs (and so checks)
 * exactly what the documentation claims. Cells are read by their first word (`yes`, `no`,
 * `whole`, `—`) and, for JSON mode and auth modes, by the backticked names they list.
 */

export const COLUMNS = [
  "Provider",
  "Chat",
  "Responses API",
  "Text completions",
  "Streaming",
  "Tools",
  "Streamed tool-call deltas",
  "Embeddings",
  "JSON mode",
  "Usage in streams",
  "Auth modes",
  "Notes",
] as const;
export type Column = (typeof COLUMNS)[number];

export type ProviderRow = Record<Column, string>;

export const PROVIDERS_DOC = path.resolve(import.meta.dirname, "../../../docs/providers.md");

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\||\|$/g, "")
    .split("|")
    .map((cell) => cell.trim());
}

/** The table's rows by provider label (backticks removed), e.g. "openai-compatible (vLLM)". */
export function readProvidersTable(file = PROVIDERS_DOC): Map<string, ProviderRow> {
  const lines = readFileSync(file, "utf8").split("\n");
  const headerAt = lines.findIndex((line) => /^\|\s*Provider\s*\|/.test(line));
  if (headerAt === -1) throw new Error(`${file} has no table starting with "| Provider |"`);
  const header = cells(lines[headerAt]!);
  if (header.join("|") !== COLUMNS.join("|")) {
    throw new Error(`${file}: table columns are ${header.join(", ")}; expected ${COLUMNS.join(", ")}`);
  }
  const rows = new Map<string, ProviderRow>();
  for (const line of lines.slice(headerAt + 2)) {
    if (!line.startsWith("|")) break;
    const values = cells(line);
    const row = Object.fromEntries(COLUMNS.map((column, i) => [column, values[i] ?? ""])) as ProviderRow;
    rows.set(row.Provider.replace(/`/g, ""), row);
  }
  return rows;
}

/** A cell's verdict: its first word, lower-cased, without markup. */
export function verdict(cell: string): string {
  return (/^[`*_]*([^\s`*_,;(]+)/.exec(cell)?.[1] ?? "").toLowerCase();
}

export interface JsonModeClaim {
  mode: "json_object" | "json_schema";
  /** Asked for through a system instruction rather than the upstream's own JSON setting. */
  instruction: boolean;
}

export function jsonModes(cell: string): JsonModeClaim[] {
  return [...cell.matchAll(/`(json_object|json_schema)`( \(instruction\))?/g)].map((m) => ({
    mode: m[1] as JsonModeClaim["mode"],
    instruction: m[2] !== undefined,
  }));
}

/** The credential modes a cell lists: `secretRef`, `workloadIdentity`, `none`. */
export function authModes(cell: string): string[] {
  return [...cell.matchAll(/`(secretRef|workloadIdentity|none)`/g)].map((m) => m[1]!);
}
