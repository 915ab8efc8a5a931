import type { V1Role, V1RoleBinding, V1ServiceAccount } from "@kubernetes/client-node";
import { API_GROUP } from "../../shared/schemas/common.js";
import type { EmbeddingMigration } from "../../shared/schemas/embedding-migration.js";
import { migrationJobName, migrationLabels, ownerReference } from "./migration-job.js";

/**
 * The worker's own identity, one per migration and owned by it: a ServiceAccount whose Role lets
 * it read and watch this one EmbeddingMigration and patch its status, nothing else (no Secrets:
 * the store URL comes in as env from the kubelet).
 */
export function workerRbac(migration: EmbeddingMigration): {
  serviceAccount: V1ServiceAccount;
  role: V1Role;
  roleBinding: V1RoleBinding;
} {
  const name = migrationJobName(migration.metadata.name);
  const metadata = {
    name,
    namespace: migration.metadata.namespace,
    labels: migrationLabels(migration),
    ownerReferences: [ownerReference(migration)],
  };
  return {
    serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata },
    role: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata,
      rules: [
        {
          apiGroups: [API_GROUP],
          resources: ["embeddingmigrations"],
          resourceNames: [migration.metadata.name],
          verbs: ["get", "watch"],
        },
        {
          apiGroups: [API_GROUP],
          resources: ["embeddingmigrations/status"],
          resourceNames: [migration.metadata.name],
          verbs: ["get", "patch"],
        },
      ],
    },
    roleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace: migration.metadata.namespace }],
    },
  };
}
