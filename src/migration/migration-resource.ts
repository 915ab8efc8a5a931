import {
  ApiException,
  PatchStrategy,
  setHeaderOptions,
  type CustomObjectsApi,
  type KubeConfig,
} from "@kubernetes/client-node";
import { CustomObjectsApi as CustomObjectsApiClass } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION, GROUP_VERSION } from "../shared/schemas/common.js";
import {
  embeddingMigrationSchema,
  type EmbeddingMigration,
  type EmbeddingMigrationStatus,
} from "../shared/schemas/embedding-migration.js";
import { PermanentMigrationError } from "./migration-errors.js";

/** Where the worker reads its EmbeddingMigration and writes its status. */
export interface MigrationResource {
  /** The current object, or undefined once it is deleted. */
  read(): Promise<EmbeddingMigration | undefined>;
  /** Replaces the fields of status this worker owns. */
  writeStatus(status: EmbeddingMigrationStatus): Promise<void>;
}

const PLURAL = "embeddingmigrations";
/** Server-side apply field manager: the worker owns the status fields it writes, the operator its own. */
export const STATUS_FIELD_MANAGER = "switchboard-migrate";

/** The EmbeddingMigration on the Kubernetes API, status through the status subresource. */
export class KubeMigrationResource implements MigrationResource {
  private readonly api: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApiClass);
  }

  async read(): Promise<EmbeddingMigration | undefined> {
    let object: unknown;
    try {
      object = await this.api.getNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        namespace: this.namespace,
        plural: PLURAL,
        name: this.name,
      });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
    const parsed = embeddingMigrationSchema.safeParse(object);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new PermanentMigrationError("InvalidSpec", `${issue.path.join(".")}: ${issue.message}`);
    }
    return parsed.data;
  }

  async writeStatus(status: EmbeddingMigrationStatus): Promise<void> {
    await this.api.patchNamespacedCustomObjectStatus(
      {
        group: API_GROUP,
        version: API_VERSION,
        namespace: this.namespace,
        plural: PLURAL,
        name: this.name,
        body: {
          apiVersion: GROUP_VERSION,
          kind: "EmbeddingMigration",
          metadata: { name: this.name, namespace: this.namespace },
          status,
        },
        fieldManager: STATUS_FIELD_MANAGER,
        force: true,
      },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    );
  }
}
