import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "./cli-process.js";

const DIR = path.join(REPO_ROOT, "charts/switchboard/argocd");
const execFileAsync = promisify(execFile);

export interface ArgoHealth {
  status: string;
  message: string;
}

/** A JSON value as a Lua 5.1 table constructor; null becomes nil, as in Argo CD's conversion. */
function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  // Lua 5.1 knows JSON's \" \\ \n \t \r \b \f escapes but not \uXXXX: those become \ddd bytes.
  if (typeof value === "string")
    return JSON.stringify(value).replace(/\\u([0-9a-f]{4})/gi, (_, hex: string) =>
      [...Buffer.from(String.fromCharCode(parseInt(hex, 16)))]
        .map((b) => `\\${String(b).padStart(3, "0")}`)
        .join(""),
    );
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(", ")}}`;
  const fields = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `[${JSON.stringify(k)}] = ${luaLiteral(v)}`);
  return `{${fields.join(", ")}}`;
}

/**
 * Runs the chart's Argo CD Lua health check of `kind` the way Argo CD does (gopher-lua implements
 * Lua 5.1): in Debian's lua5.1 interpreter (scripts/setup-test-deps.sh), with the object as the
 * `obj` global and the script as the body of a function whose returned table is the health.
 */
export async function argoHealth(
  kind: "llmprovider" | "llmroute" | "embeddingmigration",
  obj: unknown,
): Promise<ArgoHealth> {
  const script = readFileSync(path.join(DIR, `health-${kind}.lua`), "utf8");
  const program =
    `obj = ${luaLiteral(obj)}\n` +
    `local health = (function()\n${script}\nend)()\n` +
    `io.write(health.status, "\\n", health.message)\n`;
  const { stdout } = await execFileAsync("lua5.1", ["-e", program]);
  const newline = stdout.indexOf("\n");
  return { status: stdout.slice(0, newline), message: stdout.slice(newline + 1) };
}
