import type { GatewayConfig } from "../../shared/schemas/gateway-config.js";
import { credentialValues } from "../../shared/credential-values.js";
import { registerSecrets, unregisterSecrets } from "../../shared/redact.js";
import { buildRuntime, type GatewayRuntime } from "./gateway-runtime.js";

export type ConfigListener = (runtime: GatewayRuntime) => void;

/** Holds the snapshot in force and swaps it atomically; readers never see a half-applied config. */
export class ConfigStore {
  private runtime: GatewayRuntime | undefined;
  private readonly listeners = new Set<ConfigListener>();
  lastError: string | undefined;

  get current(): GatewayRuntime | undefined {
    return this.runtime;
  }

  /** Builds the new runtime first; if that throws, the old one keeps serving. */
  apply(config: GatewayConfig): GatewayRuntime {
    if (this.runtime?.config.version === config.version) return this.runtime;
    const next = buildRuntime(config);
    registerSecrets(this, credentialValues(config));
    this.runtime = next;
    this.lastError = undefined;
    for (const listener of this.listeners) listener(next);
    return next;
  }

  /** Forgets the config's credential values once nothing serves it any more. */
  close(): void {
    unregisterSecrets(this);
  }

  reject(reason: string): void {
    this.lastError = reason;
  }

  onChange(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
