import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createVertexAuth } from "../../../../../src/gateway/providers/vertex/vertex-auth.js";
import type {
  CompiledProvider,
  ResolvedCredentials,
} from "../../../../../src/shared/schemas/gateway-config.js";
import { GatewayError } from "../../../../../src/shared/errors.js";

const provider = (credentials: ResolvedCredentials): CompiledProvider =>
  ({ id: "ai/vertex", credentials }) as CompiledProvider;
const signal = (): AbortSignal => new AbortController().signal;

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

const ENV = ["METADATA_SERVER_DETECTION", "GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG"] as const;
let saved: Record<string, string | undefined>;

beforeEach(() => {
  saved = Object.fromEntries(ENV.map((name) => [name, process.env[name]]));
  // No metadata server, no key file, an empty gcloud config: Application Default Credentials find nothing.
  process.env.METADATA_SERVER_DETECTION = "none";
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  process.env.CLOUDSDK_CONFIG = mkdtempSync(join(tmpdir(), "gcloud-"));
});
afterEach(() => {
  for (const name of ENV) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

describe("createVertexAuth", () => {
  it("explains how to set up Workload Identity when no Application Default Credentials exist", async () => {
    const auth = createVertexAuth(provider({ mode: "workloadIdentity" }), "vertex provider ai/vertex");
    const err = await failure(auth.headers(signal()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toContain("Workload Identity");
  });

  it("rejects a Secret without client_email and private_key", async () => {
    const auth = createVertexAuth(
      provider({ mode: "apiKey", apiKey: '{"type":"authorized_user","refresh_token":"1//abc"}' }),
      "p",
    );
    const err = await failure(auth.headers(signal()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).not.toContain("1//abc");
  });

  it("sends no Authorization header for credentials `none` (a local Vertex-compatible proxy)", async () => {
    await expect(createVertexAuth(provider({ mode: "none" }), "p").headers(signal())).resolves.toEqual({});
  });

  it("redacts the key's private parts from upstream text", () => {
    const auth = createVertexAuth(
      provider({
        mode: "apiKey",
        apiKey: JSON.stringify({
          client_email: "a@b",
          private_key: "-----BEGIN PRIVATE KEY-----x",
          private_key_id: "abc123def",
        }),
      }),
      "p",
    );
    expect(auth.secrets()).toEqual(["-----BEGIN PRIVATE KEY-----x", "abc123def"]);
  });
});
