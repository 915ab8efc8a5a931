import { describe, expect, it } from "vitest";
import type { V1Secret } from "@kubernetes/client-node";
import { readSnapshot } from "../../../src/shared/snapshot-format.js";
import { encodeSnapshot, INLINE_KEY, MANIFEST_KEY, CHUNK_KEY } from "../../../src/shared/snapshot-format.js";
import { configWithRoutes } from "../../support/routes-config.js";

/** Turns an encoded snapshot into the Secrets the publisher would write. */
function asSecrets(encoded: ReturnType<typeof encodeSnapshot>): {
  head: V1Secret;
  parts: Map<string, V1Secret>;
} {
  const data: Record<string, string> = {
    [MANIFEST_KEY]: Buffer.from(JSON.stringify(encoded.manifest)).toString("base64"),
  };
  if (encoded.inline) data[INLINE_KEY] = encoded.inline.toString("base64");
  const parts = new Map(
    encoded.parts.map((p) => [p.name, { data: { [CHUNK_KEY]: p.chunk.toString("base64") } } as V1Secret]),
  );
  return { head: { data }, parts };
}

function reader(parts: Map<string, V1Secret>) {
  return {
    readNamespacedSecret: async ({ name }: { name: string; namespace: string }) => {
      const part = parts.get(name);
      if (!part) throw Object.assign(new Error("not found"), { code: 404 });
      return part;
    },
  } as Parameters<typeof readSnapshot>[2];
}

describe("snapshot format: the operator's encoder and the gateway's reader agree", () => {
  it("round-trips a small config inline in the head Secret", async () => {
    const cfg = configWithRoutes(3);
    const encoded = encodeSnapshot(cfg, "gateway-config");
    expect(encoded.manifest.parts).toEqual([]);
    const { head, parts } = asSecrets(encoded);
    expect(await readSnapshot(head, "ns", reader(parts))).toEqual(JSON.parse(JSON.stringify(cfg)));
  });

  it("splits a config larger than one Secret into content-addressed parts and reassembles it", async () => {
    const cfg = configWithRoutes(400);
    const encoded = encodeSnapshot(cfg, "gateway-config", 4096);
    expect(encoded.parts.length).toBeGreaterThan(1);
    expect(encoded.parts[0]!.name).toBe(`gateway-config-${cfg.version}-0`);
    const { head, parts } = asSecrets(encoded);
    expect(head.data![INLINE_KEY]).toBeUndefined();
    expect((await readSnapshot(head, "ns", reader(parts))).version).toBe(cfg.version);
  });

  it("encodes the same config to the same bytes, so an unchanged config is never rewritten", () => {
    const cfg = configWithRoutes(5);
    expect(encodeSnapshot(cfg, "x").manifest.sha256).toBe(encodeSnapshot(cfg, "x").manifest.sha256);
  });

  it("refuses a tampered, truncated or mislabelled snapshot", async () => {
    const cfg = configWithRoutes(400);
    const encoded = encodeSnapshot(cfg, "gateway-config", 4096);
    const { head, parts } = asSecrets(encoded);
    const first = encoded.parts[0]!.name;
    const tampered = new Map(parts);
    const bytes = Buffer.from(parts.get(first)!.data![CHUNK_KEY]!, "base64");
    bytes[10] = bytes[10]! ^ 0xff;
    tampered.set(first, { data: { [CHUNK_KEY]: bytes.toString("base64") } });
    await expect(readSnapshot(head, "ns", reader(tampered))).rejects.toThrow(/sha256/);
    const truncated = new Map(parts);
    truncated.set(first, { data: { [CHUNK_KEY]: bytes.subarray(0, 100).toString("base64") } });
    await expect(readSnapshot(head, "ns", reader(truncated))).rejects.toThrow(/expected/);

    // Valid gzip and sha256, but the content does not hash to the version it claims.
    const forged = encodeSnapshot({ ...cfg, routes: cfg.routes.slice(1) }, "gateway-config");
    forged.manifest.version = cfg.version;
    const forgedSecrets = asSecrets(forged);
    await expect(readSnapshot(forgedSecrets.head, "ns", reader(forgedSecrets.parts))).rejects.toThrow(
      /content hash/,
    );
    await expect(readSnapshot({ data: {} }, "ns", reader(parts))).rejects.toThrow(/manifest.json/);
  });
});
