import { createHash } from "node:crypto";
import type { V1EnvVar, V1Job, V1OwnerReference } from "@kubernetes/client-node";
import type { EmbeddingMigration } from "../../shared/schemas/embedding-migration.js";
import { MIGRATION_JOB_LABEL } from "../informers/watched-resources.js";

/** What the operator was told about running workers (flags / chart values). */
export interface MigrationJobSettings {
  /** The operator's own image: the worker is `switchboard migrate` from it. */
  image: string;
  /** The gateway's in-cluster URL; every embedding goes through it. */
  gatewayUrl: string;
  imagePullPolicy?: string;
}

/** Exit code of a permanent failure (contract with the worker): the Job must not retry it. */
export const PERMANENT_FAILURE_EXIT_CODE = 2;
/** Pod restarts for transient crashes; the worker resumes from its checkpoint each time. */
export const MIGRATION_BACKOFF_LIMIT = 6;
export const WORKER_CONTAINER = "migrate";
/** Where the kubelet mounts the pod's ServiceAccount token (the API server's own audience, as TokenReview checks). */
export const SERVICE_ACCOUNT_TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** The worker's gateway credential as env: a key from its Secret, or the path of the pod's token. */
function credentialEnv(migration: EmbeddingMigration): V1EnvVar[] {
  const credential = migration.spec.gatewayCredential;
  if (credential?.apiKeySecretRef) {
    const { name, key } = credential.apiKeySecretRef;
    return [{ name: "SWITCHBOARD_GATEWAY_API_KEY", valueFrom: { secretKeyRef: { name, key } } }];
  }
  if (credential?.serviceAccountToken) {
    return [{ name: "SWITCHBOARD_GATEWAY_TOKEN_FILE", value: SERVICE_ACCOUNT_TOKEN_FILE }];
  }
  return [];
}

/** A name of at most 63 characters from `base` + `suffix`, hashed when it would be longer. */
function boundedName(base: string, suffix: string): string {
  const full = `${base}-${suffix}`;
  if (full.length <= 63) return full;
  const hash = createHash("sha256").update(full).digest("hex").slice(0, 8);
  return `${base.slice(0, 63 - suffix.length - 10).replace(/[-.]+$/, "")}-${hash}-${suffix}`;
}

/** The Job (and worker ServiceAccount) name of a migration; also a valid label value. */
export function migrationJobName(migrationName: string): string {
  return boundedName(migrationName, "migrate");
}

export function ownerReference(migration: EmbeddingMigration): V1OwnerReference {
  return {
    apiVersion: migration.apiVersion,
    kind: "EmbeddingMigration",
    name: migration.metadata.name,
    uid: migration.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function migrationLabels(migration: EmbeddingMigration): Record<string, string> {
  return {
    "app.kubernetes.io/name": "switchboard",
    "app.kubernetes.io/component": "embedding-migration",
    "app.kubernetes.io/managed-by": "switchboard-operator",
    [MIGRATION_JOB_LABEL]: migrationJobName(migration.metadata.name),
  };
}

/**
 * The Job that runs `switchboard migrate` for one EmbeddingMigration. Owned by it (deleting the
 * migration deletes the Job and its pods). The store URL and a gateway API key reach the pod only
 * as secretKeyRefs, never as values in the spec. Exit 2 fails the Job at once (podFailurePolicy); any other
 * crash gets a new pod, which resumes from the checkpoint in the store.
 */
export function migrationJob(
  migration: EmbeddingMigration,
  embeddingModel: string,
  settings: MigrationJobSettings,
  inputPricePer1M: number | undefined,
): V1Job {
  const namespace = migration.metadata.namespace!;
  const name = migrationJobName(migration.metadata.name);
  const labels = migrationLabels(migration);
  const { connectionSecretRef } = migration.spec.store.postgres;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace, labels, ownerReferences: [ownerReference(migration)] },
    spec: {
      backoffLimit: MIGRATION_BACKOFF_LIMIT,
      podFailurePolicy: {
        rules: [
          {
            action: "FailJob",
            onExitCodes: {
              containerName: WORKER_CONTAINER,
              operator: "In",
              values: [PERMANENT_FAILURE_EXIT_CODE],
            },
          },
          // A pod evicted or preempted is not the worker's fault: do not count it.
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          serviceAccountName: name,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: WORKER_CONTAINER,
              image: settings.image,
              imagePullPolicy: settings.imagePullPolicy,
              command: ["node", "/app/dist/cli.js"],
              args: [
                "migrate",
                "--migration",
                `${namespace}/${migration.metadata.name}`,
                "--gateway-url",
                settings.gatewayUrl,
                "--embedding-model",
                embeddingModel,
                ...(inputPricePer1M !== undefined ? ["--input-price-per-1m", String(inputPricePer1M)] : []),
              ],
              env: [
                {
                  name: "SWITCHBOARD_STORE_URL",
                  valueFrom: {
                    secretKeyRef: { name: connectionSecretRef.name, key: connectionSecretRef.key },
                  },
                },
                ...credentialEnv(migration),
              ],
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    },
  };
}
