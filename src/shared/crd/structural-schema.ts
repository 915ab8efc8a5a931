import { z } from "zod";

/** An OpenAPI v3 schema node as it appears in a CRD's openAPIV3Schema. */
export interface CrdSchema {
  type?: string;
  description?: string;
  properties?: Record<string, CrdSchema>;
  items?: CrdSchema;
  additionalProperties?: CrdSchema | boolean;
  required?: string[];
  enum?: unknown[];
  [keyword: string]: unknown;
}

/** Keywords a structural schema cannot carry here; each comes with what to do instead. */
const FORBIDDEN: Record<string, string> = {
  anyOf: "unions are not structural; use one object with optional fields and a CEL rule (withCelRules)",
  oneOf: "unions are not structural; use one object with optional fields and a CEL rule (withCelRules)",
  allOf: "intersections are not structural; merge the objects with .extend()",
  not: "negations are not structural; use a CEL rule (withCelRules)",
  $ref: "references are not allowed in CRDs; the generator inlines reused schemas, so this is a recursive schema",
  $defs: "definitions are not allowed in CRDs",
  const: "const is not supported by the API server; use z.enum()",
  default: "API server defaults make Argo CD show OutOfSync forever; let the compiler apply it",
};

/** String formats the API server validates (k8s.io/kube-openapi strfmt). */
const KNOWN_FORMATS = new Set(
  (
    "bsonobjectid uri email hostname ipv4 ipv6 cidr mac uuid uuid3 uuid4 uuid5 isbn isbn10 isbn13 creditcard " +
    "ssn hexcolor rgbcolor byte password date duration datetime date-time int32 int64 float double"
  ).split(" "),
);

/** Keywords zod emits that carry nothing for the API server. */
const DROPPED = ["$schema", "id", "$id", "title"];

/** Properties at the root that the API server owns, with the descriptions every CRD uses. */
const ROOT_PROPERTIES: Record<string, CrdSchema> = {
  apiVersion: {
    description:
      "APIVersion defines the versioned schema of this representation of an object. Servers should convert " +
      "recognized schemas to the latest internal value, and may reject unrecognized values. More info: " +
      "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    type: "string",
  },
  kind: {
    description:
      "Kind is a string value representing the REST resource this object represents. Servers may infer this " +
      "from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: " +
      "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    type: "string",
  },
  metadata: { type: "object" },
};

export class CrdSchemaError extends Error {
  constructor(path: string, problem: string) {
    super(`${path || "<root>"}: ${problem}`);
    this.name = "CrdSchemaError";
  }
}

/**
 * Turns a resource's zod schema into the structural openAPIV3Schema of its CRD:
 * zod's OpenAPI 3.0 output, cleaned of what the API server rejects or would act on
 * differently. Throws a CrdSchemaError naming the field for anything that cannot be
 * made structural, or any field without a description (kubectl explain shows them).
 */
export function toCrdSchema(resourceSchema: z.ZodType): CrdSchema {
  const json = z.toJSONSchema(resourceSchema, {
    target: "openapi-3.0",
    // The CRD validates what users write: the input side of any transform.
    io: "input",
    unrepresentable: "throw",
    cycles: "throw",
    reused: "inline",
  }) as CrdSchema;
  if (json.type !== "object" || !json.properties?.spec) {
    throw new CrdSchemaError("", "a resource schema must be an object with a spec");
  }
  // The API server owns apiVersion, kind and metadata; the schema describes the rest.
  const ownProperties = Object.fromEntries(
    Object.entries(json.properties).filter(([name]) => !(name in ROOT_PROPERTIES)),
  );
  const root = clean(
    {
      ...json,
      properties: ownProperties,
      required: json.required?.filter((name) => !(name in ROOT_PROPERTIES)),
    },
    "",
  );
  root.properties = { ...ROOT_PROPERTIES, ...root.properties };
  return root;
}

function clean(node: CrdSchema, path: string): CrdSchema {
  const out: CrdSchema = { ...node };
  for (const key of DROPPED) delete out[key];
  for (const [key, why] of Object.entries(FORBIDDEN)) {
    if (key in out) throw new CrdSchemaError(path, `"${key}" is not allowed: ${why}`);
  }
  if (out.type === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true) {
    throw new CrdSchemaError(path, "every schema node needs a type (structural schema)");
  }
  if (typeof out.format === "string" && !KNOWN_FORMATS.has(out.format)) {
    throw new CrdSchemaError(path, `format "${out.format}" is not one the API server knows; use a pattern`);
  }

  if (out.type === "integer") tidyIntegerBounds(out);
  if (out.type === "string" && Array.isArray(out.enum) && out.maxLength === undefined) {
    // CEL cost estimation needs a bound on every string a rule reads; an enum's is its longest value.
    out.maxLength = Math.max(...out.enum.map((value) => String(value).length));
  }

  if (out.properties) {
    const properties: Record<string, CrdSchema> = {};
    for (const [name, child] of Object.entries(out.properties)) {
      const childPath = path ? `${path}.${name}` : name;
      if (!child.description) {
        throw new CrdSchemaError(
          childPath,
          "has no description; add .describe() so kubectl explain documents it",
        );
      }
      properties[name] = clean(child, childPath);
    }
    if (Object.keys(properties).length > 0) out.properties = properties;
    else delete out.properties;
  }
  if (out.required?.length === 0) delete out.required;

  if (out.additionalProperties === false) {
    // Pruning already drops unknown fields; `false` is not allowed alongside properties.
    delete out.additionalProperties;
  } else if (out.additionalProperties === true || isEmptySchema(out.additionalProperties)) {
    delete out.additionalProperties;
    out["x-kubernetes-preserve-unknown-fields"] = true;
  } else if (out.additionalProperties) {
    if (out.properties)
      throw new CrdSchemaError(path, "properties and additionalProperties are mutually exclusive");
    out.additionalProperties = clean(out.additionalProperties, `${path}[*]`);
  }

  if (out.type === "array") {
    if (!out.items) throw new CrdSchemaError(path, "an array needs an item schema");
    if (out.maxItems === undefined) {
      throw new CrdSchemaError(
        path,
        "every list needs .max() so CEL cost estimation and etcd size stay bounded",
      );
    }
    out.items = clean(out.items, `${path}[]`);
  }
  return orderKeywords(out);
}

/** Keyword order of the emitted YAML: what a reader looks for first, then structure, then extensions. */
const KEYWORD_ORDER = [
  "description",
  "type",
  "format",
  "enum",
  "minimum",
  "exclusiveMinimum",
  "maximum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "nullable",
  "properties",
  "additionalProperties",
  "items",
  "required",
  "x-kubernetes-list-type",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-validations",
];

function orderKeywords(node: CrdSchema): CrdSchema {
  const rank = (key: string) => {
    const index = KEYWORD_ORDER.indexOf(key);
    return index === -1 ? KEYWORD_ORDER.length : index;
  };
  const keys = Object.keys(node).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return Object.fromEntries(keys.map((key) => [key, node[key]])) as CrdSchema;
}

function tidyIntegerBounds(node: CrdSchema): void {
  if (node.minimum === Number.MIN_SAFE_INTEGER) delete node.minimum;
  if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
  // Integers read better as inclusive bounds: `.positive()` becomes minimum 1.
  if (node.exclusiveMinimum === true && typeof node.minimum === "number") {
    node.minimum += 1;
    delete node.exclusiveMinimum;
  }
  if (node.exclusiveMaximum === true && typeof node.maximum === "number") {
    node.maximum -= 1;
    delete node.exclusiveMaximum;
  }
}

function isEmptySchema(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}
