import type { z } from "zod";
import { API_GROUP, API_VERSION } from "../schemas/common.js";
import { embeddingMigrationSchema } from "../schemas/embedding-migration.js";
import { llmProviderSchema } from "../schemas/llm-provider.js";
import { llmRouteSchema } from "../schemas/llm-route.js";

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** What a CRD needs besides its schema. */
export interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  schema: z.ZodType;
  printerColumns: PrinterColumn[];
}

export const CRD_CATEGORIES = ["switchboard"];

const ready: PrinterColumn = {
  name: "Ready",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: "Status of the Ready condition.",
};
const age: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export const CRD_DEFINITIONS: readonly CrdDefinition[] = [
  {
    kind: "LLMProvider",
    plural: "llmproviders",
    singular: "llmprovider",
    shortNames: ["llmp"],
    schema: llmProviderSchema,
    printerColumns: [
      { name: "Type", type: "string", jsonPath: ".spec.type", description: "Upstream API." },
      {
        name: "Health",
        type: "string",
        jsonPath: ".status.health",
        description: "Merged health across gateways.",
      },
      { name: "Circuit", type: "string", jsonPath: ".status.circuit", description: "Worst circuit state." },
      { name: "P95", type: "number", jsonPath: ".status.latency.p95Ms", description: "p95 latency in ms." },
      ready,
      age,
    ],
  },
  {
    kind: "LLMRoute",
    plural: "llmroutes",
    singular: "llmroute",
    shortNames: ["llmr"],
    schema: llmRouteSchema,
    printerColumns: [
      { name: "Model", type: "string", jsonPath: ".spec.model", description: "Model name clients send." },
      {
        name: "Strategy",
        type: "string",
        jsonPath: ".status.strategy",
        description: "How targets are ordered: spec.strategy or its default.",
      },
      { name: "Targets", type: "integer", jsonPath: ".status.targetCount", description: "Resolved targets." },
      ready,
      age,
    ],
  },
  {
    kind: "EmbeddingMigration",
    plural: "embeddingmigrations",
    singular: "embeddingmigration",
    shortNames: ["embm"],
    schema: embeddingMigrationSchema,
    printerColumns: [
      { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Migration phase." },
      { name: "Progress", type: "string", jsonPath: ".status.progress.percent", description: "Rows done." },
      { name: "ETA", type: "string", jsonPath: ".status.eta", description: "Estimated time left." },
      age,
    ],
  },
];

export const CRD_GROUP = API_GROUP;
export const CRD_VERSION = API_VERSION;
