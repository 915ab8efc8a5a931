import { DefaultAzureCredential, WorkloadIdentityCredential } from "@azure/identity";
import { afterEach, describe, expect, it } from "vitest";
import { createAzureTokenCredential } from "../../../../../src/gateway/providers/azure-openai/azure-token-credential.js";

describe("createAzureTokenCredential", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("uses WorkloadIdentityCredential when clientId or tenantId is given, reading the token file from the environment", () => {
    process.env.AZURE_FEDERATED_TOKEN_FILE = "/var/run/secrets/azure/tokens/azure-identity-token";
    process.env.AZURE_TENANT_ID = "tenant-from-env";
    expect(
      createAzureTokenCredential({ mode: "workloadIdentity", clientId: "c", tenantId: "t" }),
    ).toBeInstanceOf(WorkloadIdentityCredential);
    expect(createAzureTokenCredential({ mode: "workloadIdentity", clientId: "c" })).toBeInstanceOf(
      WorkloadIdentityCredential,
    );
  });

  it("falls back to the DefaultAzureCredential chain otherwise", () => {
    expect(createAzureTokenCredential({ mode: "workloadIdentity" })).toBeInstanceOf(DefaultAzureCredential);
  });
});
