import { statSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";
import { compile, formatDiagnostic } from "../../shared/compile.js";
import { loadManifests } from "../../shared/manifests.js";
import type { Logger } from "../../shared/logging.js";
import type { GatewayMetrics } from "../metrics.js";
import type { ConfigStore } from "./config-store.js";

export interface ReloadResult {
  applied: boolean;
  version?: string;
  errors: string[];
  warnings: string[];
}

/**
 * Runs the gateway from manifests on disk — the same YAML a user would `kubectl apply` — and
 * reloads on edits. An invalid edit is refused with messages naming file, resource and field,
 * and the previous snapshot keeps serving.
 */
export class ManifestConfigSource {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<ReloadResult> | undefined;

  constructor(
    private readonly dir: string,
    private readonly store: ConfigStore,
    private readonly logger: Logger,
    private readonly metrics?: GatewayMetrics,
  ) {}

  async reload(): Promise<ReloadResult> {
    // Serialise reloads so a slow one never overwrites a newer one.
    const previous = this.reloading ?? Promise.resolve(undefined);
    const next = previous.then(() => this.reloadOnce());
    this.reloading = next;
    return next;
  }

  private async reloadOnce(): Promise<ReloadResult> {
    let result: ReloadResult;
    try {
      const compiled = compile(await loadManifests(this.dir));
      const errors = compiled.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic);
      const warnings = compiled.diagnostics.filter((d) => d.severity === "warning").map(formatDiagnostic);
      if (compiled.config) {
        const before = this.store.current?.config.version;
        this.store.apply(compiled.config);
        result = {
          applied: before !== compiled.config.version,
          version: compiled.config.version,
          errors,
          warnings,
        };
      } else {
        result = { applied: false, errors, warnings };
      }
    } catch (err) {
      result = { applied: false, errors: [(err as Error).message], warnings: [] };
    }
    for (const warning of result.warnings) this.logger.warn({ dir: this.dir }, warning);
    if (result.errors.length > 0) {
      this.store.reject(result.errors.join("; "));
      this.metrics?.configReloads.inc({ result: "refused" });
      this.logger.error(
        { dir: this.dir, errors: result.errors, servingVersion: this.store.current?.config.version ?? null },
        "config refused; the previous config keeps serving",
      );
    } else if (result.applied) {
      this.metrics?.configReloads.inc({ result: "applied" });
      const runtime = this.store.current!;
      this.logger.info(
        {
          dir: this.dir,
          version: result.version,
          routes: runtime.config.routes.length,
          providers: runtime.config.providers.length,
        },
        "config applied",
      );
    }
    return result;
  }

  watch(debounceMs = 150): void {
    // A single file is watched through its directory: a key of a ConfigMap volume is a symlink
    // whose target the kubelet replaces, so a watch on the file itself goes quiet after one update.
    // Of that directory only the file and the kubelet's `..data` swap matter: other files there (a
    // log written next to the manifests) would otherwise trigger a full reload on every write.
    const isDir = statSync(this.dir).isDirectory();
    const watched = isDir ? this.dir : path.dirname(this.dir);
    const file = path.basename(this.dir);
    this.watcher = watch(watched, { recursive: isDir }, (_event, name) => {
      if (!isDir && name && name !== file && !name.startsWith("..")) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), debounceMs);
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
