import { describe, expect, it } from "vitest";
import {
  bedrockSecrets,
  resolveBedrockAuth,
} from "../../../../../src/gateway/providers/bedrock/bedrock-credentials.js";
import type {
  CompiledProvider,
  ResolvedCredentials,
} from "../../../../../src/shared/schemas/gateway-config.js";

function provider(credentials: ResolvedCredentials): CompiledProvider {
  return {
    id: "ai/bedrock",
    name: "bedrock",
    namespace: "ai",
    type: "bedrock",
    region: "eu-west-1",
    credentials,
    models: [],
    limits: {},
    timeouts: { connectMs: 1000, firstTokenMs: 1000, idleMs: 1000, totalMs: 1000 },
    connectionPool: { maxConnections: 1024, maxQueued: 256, queueTimeoutMs: 5000 },
    healthCheck: { intervalMs: 1000, timeoutMs: 1000, probe: "none" },
    circuitBreaker: { failureThreshold: 1, windowSeconds: 1, openSeconds: 1, halfOpenRequests: 1 },
  };
}

describe("resolveBedrockAuth", () => {
  it("reads static keys from a JSON Secret value", () => {
    const p = provider({
      mode: "apiKey",
      apiKey: ' {"accessKeyId":"AKIA1","secretAccessKey":"s3","sessionToken":"tok"}\n',
    });
    const auth = resolveBedrockAuth(p);
    expect(auth).toEqual({
      kind: "static",
      accessKeyId: "AKIA1",
      secretAccessKey: "s3",
      sessionToken: "tok",
    });
    expect(bedrockSecrets(p, auth)).toEqual(expect.arrayContaining(["s3", "tok"]));
  });

  it("treats any other Secret value as a Bedrock API key", () => {
    expect(resolveBedrockAuth(provider({ mode: "apiKey", apiKey: "ABSKabc123\n" }))).toEqual({
      kind: "apiKey",
      apiKey: "ABSKabc123",
    });
  });

  it("uses the SDK's default chain for workload identity, or the web identity token for a role", () => {
    expect(resolveBedrockAuth(provider({ mode: "workloadIdentity" }))).toEqual({ kind: "defaultChain" });
    expect(
      resolveBedrockAuth(provider({ mode: "workloadIdentity", roleArn: "arn:aws:iam::1:role/r" })),
    ).toEqual({
      kind: "webIdentity",
      roleArn: "arn:aws:iam::1:role/r",
    });
  });

  it("fails clearly, without echoing the Secret, for malformed JSON, no credentials or unresolved ones", () => {
    const secret = '{"accessKeyId":"AKIA1","secretAccessKey":';
    expect(() => resolveBedrockAuth(provider({ mode: "apiKey", apiKey: secret }))).toThrow(
      /must hold a Bedrock API key or JSON/,
    );
    try {
      resolveBedrockAuth(provider({ mode: "apiKey", apiKey: secret }));
    } catch (err) {
      expect(String(err)).not.toContain("AKIA1");
    }
    expect(() => resolveBedrockAuth(provider({ mode: "none" }))).toThrow(
      /needs spec.credentials.secretRef or spec.credentials.workloadIdentity/,
    );
    expect(() =>
      resolveBedrockAuth(
        provider({ mode: "unresolved", reason: "SecretNotFound", message: "Secret ai/aws not found" }),
      ),
    ).toThrow(/Secret ai\/aws not found/);
  });
});
