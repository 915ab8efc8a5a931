import { sha256Hex } from "./digest.js";
import { gunzipSync, gzipSync } from "node:zlib";
import { hashConfig } from "./compile.js";
import { gatewayConfigSchema, type GatewayConfig } from "./schemas/gateway-config.js";

/**
 * The snapshot wire format (docs/operator.md "Snapshot format"): the operator encodes it,
 * the gateway's KubernetesConfigSource decodes it, and both use this one definition.
 */
export const SNAPSHOT_FORMAT = "switchboard.dev/gateway-config-snapshot/v1";
export const SNAPSHOT_SECRET_TYPE = "switchboard.dev/gateway-config";
export const MANIFEST_KEY = "manifest.json";
export const INLINE_KEY = "config.json.gz";
export const CHUNK_KEY = "chunk";
export const LABEL_SNAPSHOT = "switchboard.dev/snapshot";
export const LABEL_ROLE = "switchboard.dev/snapshot-role";
export const LABEL_VERSION = "switchboard.dev/config-version";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "switchboard-operator";

/** A Secret holds at most 1 MiB of data; stay well below it. */
export const DEFAULT_PART_BYTES = 900 * 1024;

export interface SnapshotManifest {
  format: typeof SNAPSHOT_FORMAT;
  /** GatewayConfig.version: the content hash of the compiled config. */
  version: string;
  encoding: "gzip";
  /** sha256 (hex) of the gzip bytes, all parts concatenated. */
  sha256: string;
  size: number;
  /** Part Secret names in order; empty when the payload is inline in the head Secret. */
  parts: string[];
}

export interface EncodedSnapshot {
  manifest: SnapshotManifest;
  /** Inline payload, when it fits the head Secret. */
  inline?: Buffer;
  /** Part Secret name → chunk, in order, when it does not. */
  parts: Array<{ name: string; chunk: Buffer }>;
}

export function partName(head: string, version: string, index: number): string {
  return `${head}-${version}-${index}`;
}

export function encodeSnapshot(
  config: GatewayConfig,
  head: string,
  partBytes = DEFAULT_PART_BYTES,
): EncodedSnapshot {
  const gz = gzipSync(Buffer.from(JSON.stringify(config)), { level: 9 });
  const sha256 = sha256Hex(gz);
  const base = {
    format: SNAPSHOT_FORMAT as typeof SNAPSHOT_FORMAT,
    version: config.version,
    encoding: "gzip" as const,
    sha256,
    size: gz.length,
  };
  if (gz.length <= partBytes) return { manifest: { ...base, parts: [] }, inline: gz, parts: [] };
  const parts: EncodedSnapshot["parts"] = [];
  for (let offset = 0, i = 0; offset < gz.length; offset += partBytes, i++) {
    parts.push({ name: partName(head, config.version, i), chunk: gz.subarray(offset, offset + partBytes) });
  }
  return { manifest: { ...base, parts: parts.map((p) => p.name) }, parts };
}

export class SnapshotFormatError extends Error {
  override name = "SnapshotFormatError";
}

export function parseManifest(data: Record<string, string> | undefined): SnapshotManifest {
  const raw = data?.[MANIFEST_KEY];
  if (!raw) throw new SnapshotFormatError(`the snapshot Secret has no "${MANIFEST_KEY}" key`);
  const manifest = JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as SnapshotManifest;
  if (manifest.format !== SNAPSHOT_FORMAT)
    throw new SnapshotFormatError(`unknown snapshot format ${JSON.stringify(manifest.format)}`);
  return manifest;
}

/** Reassembles, verifies (size, sha256, config hash, schema) and decodes a snapshot payload. */
export function decodeSnapshot(manifest: SnapshotManifest, chunks: readonly Buffer[]): GatewayConfig {
  const gz = Buffer.concat(chunks);
  if (gz.length !== manifest.size)
    throw new SnapshotFormatError(
      `snapshot ${manifest.version} is ${gz.length} bytes, expected ${manifest.size}`,
    );
  const digest = sha256Hex(gz);
  if (digest !== manifest.sha256)
    throw new SnapshotFormatError(`snapshot ${manifest.version} fails its sha256 check`);
  const config = gatewayConfigSchema.parse(JSON.parse(gunzipSync(gz).toString("utf8")));
  const { version, ...body } = config;
  if (version !== manifest.version || hashConfig(body) !== version) {
    throw new SnapshotFormatError(`snapshot ${manifest.version} does not match its content hash`);
  }
  return config;
}

/** The slice of a Secret the snapshot needs; structural so shared/ stays free of the Kubernetes client. */
export interface SnapshotSecret {
  data?: Record<string, string>;
}

export interface SnapshotSecretReader {
  readNamespacedSecret(args: { namespace: string; name: string }): Promise<SnapshotSecret>;
}

/** Reads the head Secret's parts, then verifies and decodes the snapshot; the gateway and the operator both read it. */
export async function readSnapshot(
  head: SnapshotSecret,
  namespace: string,
  secrets: SnapshotSecretReader,
): Promise<GatewayConfig> {
  const manifest = parseManifest(head.data);
  const chunks: Buffer[] = [];
  if (manifest.parts.length === 0) {
    chunks.push(Buffer.from(head.data?.[INLINE_KEY] ?? "", "base64"));
  } else {
    for (const name of manifest.parts) {
      const part = await secrets.readNamespacedSecret({ namespace, name });
      chunks.push(Buffer.from(part.data?.[CHUNK_KEY] ?? "", "base64"));
    }
  }
  return decodeSnapshot(manifest, chunks);
}
