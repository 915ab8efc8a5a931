import {
  DefaultAzureCredential,
  WorkloadIdentityCredential,
  type TokenCredential,
  type WorkloadIdentityCredentialOptions,
} from "@azure/identity";
import type { ResolvedCredentials } from "../../../shared/schemas/gateway-config.js";

type WorkloadIdentity = Extract<ResolvedCredentials, { mode: "workloadIdentity" }>;

/** Options passed through to @azure/identity; production needs none (the AKS webhook sets the environment). */
export type AzureIdentityOptions = Omit<WorkloadIdentityCredentialOptions, "clientId" | "tenantId">;

/**
 * The Entra ID credential for spec.credentials.workloadIdentity. With a clientId or tenantId it is
 * a WorkloadIdentityCredential (the other values, the federated token file and the authority host
 * come from the AZURE_* variables the Workload Identity webhook injects); with neither, the
 * DefaultAzureCredential chain (environment, workload identity, managed identity, ...).
 */
export function createAzureTokenCredential(
  credentials: WorkloadIdentity,
  options: AzureIdentityOptions = {},
): TokenCredential {
  if (credentials.clientId || credentials.tenantId) {
    return new WorkloadIdentityCredential({
      ...options,
      clientId: credentials.clientId,
      tenantId: credentials.tenantId,
    });
  }
  const { tokenFilePath: _tokenFilePath, ...shared } = options;
  return new DefaultAzureCredential(shared);
}
