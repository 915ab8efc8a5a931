import { describe, expect, it } from "vitest";
import { migrationJob, SERVICE_ACCOUNT_TOKEN_FILE } from "../../../src/operator/migration/migration-job.js";
import { migrationSpec } from "../../integration/migration/migration-kit.js";
import {
  embeddingMigrationSpecSchema,
  type EmbeddingMigration,
  type EmbeddingMigrationSpec,
} from "../../../src/shared/schemas/embedding-migration.js";

const base = migrationSpec();

function envOf(spec: EmbeddingMigrationSpec) {
  const migration: EmbeddingMigration = {
    apiVersion: "llm.switchboard.dev/v1alpha1",
    kind: "EmbeddingMigration",
    metadata: { name: "kb", namespace: "search", uid: "u-1" },
    spec,
  };
  const job = migrationJob(
    migration,
    "embed-new",
    { image: "switchboard:1", gatewayUrl: "http://gw:8080" },
    undefined,
  );
  return job.spec!.template.spec!.containers[0]!.env;
}

describe("the migration Job's gateway credential", () => {
  it("passes a consumer API key only as a secretKeyRef", () => {
    const env = envOf({ ...base, gatewayCredential: { apiKeySecretRef: { name: "consumers", key: "kb" } } });
    expect(env).toContainEqual({
      name: "SWITCHBOARD_GATEWAY_API_KEY",
      valueFrom: { secretKeyRef: { name: "consumers", key: "kb" } },
    });
    expect(env?.find((v) => v.name === "SWITCHBOARD_GATEWAY_API_KEY")?.value).toBeUndefined();
  });

  it("points the worker at its pod's ServiceAccount token", () => {
    const env = envOf({ ...base, gatewayCredential: { serviceAccountToken: true } });
    expect(env).toContainEqual({ name: "SWITCHBOARD_GATEWAY_TOKEN_FILE", value: SERVICE_ACCOUNT_TOKEN_FILE });
    expect(env?.map((v) => v.name)).not.toContain("SWITCHBOARD_GATEWAY_API_KEY");
  });

  it("sets no credential when the migration names none", () => {
    expect(envOf(base)?.map((v) => v.name)).toEqual(["SWITCHBOARD_STORE_URL"]);
  });

  it("takes exactly one kind of credential", () => {
    const parse = (gatewayCredential: unknown) =>
      embeddingMigrationSpecSchema.safeParse({ ...base, gatewayCredential }).success;
    expect(parse({ apiKeySecretRef: { name: "a", key: "b" }, serviceAccountToken: true })).toBe(false);
    expect(parse({})).toBe(false);
    expect(parse({ serviceAccountToken: false })).toBe(false);
    expect(parse({ serviceAccountToken: true })).toBe(true);
  });
});
