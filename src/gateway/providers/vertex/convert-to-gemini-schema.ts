/**
 * Gemini accepts an OpenAPI 3.0 subset of JSON Schema and rejects requests that carry other
 * keywords (`additionalProperties`, `$schema`, `$ref`...). This keeps what it understands,
 * inlines local `$ref`s and rewrites the common JSON-Schema idioms into their OpenAPI form.
 */

type Schema = Record<string, unknown>;

const COPIED_KEYS = [
  "title",
  "description",
  "default",
  "example",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "propertyOrdering",
] as const;

/** The only `format` values Gemini accepts, per type; others make it reject the request. */
const FORMATS: Record<string, readonly string[]> = {
  string: ["enum", "date-time"],
  integer: ["int32", "int64"],
  number: ["float", "double"],
};

const MAX_REF_DEPTH = 8;

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function resolveRef(ref: string, root: Schema): Schema | undefined {
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (!match) return undefined;
  const defs = root[match[1]!];
  const target = isSchema(defs) ? defs[decodeURIComponent(match[2]!)] : undefined;
  return isSchema(target) ? target : undefined;
}

function convertNode(node: Schema, root: Schema, depth: number): Schema {
  if (typeof node.$ref === "string") {
    const target = depth < MAX_REF_DEPTH ? resolveRef(node.$ref, root) : undefined;
    // An unresolvable or self-recursive reference degrades to "any object" rather than failing the call.
    if (!target)
      return {
        type: "object",
        ...(typeof node.description === "string" ? { description: node.description } : {}),
      };
    return convertNode({ ...target, ...withoutRef(node) }, root, depth + 1);
  }

  const out: Schema = {};
  let nullable = node.nullable === true;

  let type = node.type;
  if (Array.isArray(type)) {
    const nonNull = type.filter((t) => t !== "null");
    if (nonNull.length < type.length) nullable = true;
    if (nonNull.length === 1) type = nonNull[0];
    else if (nonNull.length > 1) {
      out.anyOf = nonNull.map((t) => convertNode({ ...node, type: t, nullable: undefined }, root, depth));
      type = undefined;
    } else type = undefined;
  }
  if (typeof type === "string" && type !== "null") out.type = type;

  for (const key of COPIED_KEYS) if (node[key] !== undefined) out[key] = node[key];

  if (
    typeof node.format === "string" &&
    typeof out.type === "string" &&
    FORMATS[out.type]?.includes(node.format)
  ) {
    out.format = node.format;
  }

  const enumValues = node.const !== undefined ? [node.const] : node.enum;
  if (Array.isArray(enumValues) && enumValues.every((v) => typeof v === "string")) {
    out.enum = enumValues;
    out.type ??= "string";
  }

  if (isSchema(node.properties)) {
    const properties: Schema = {};
    for (const [name, value] of Object.entries(node.properties)) {
      if (isSchema(value)) properties[name] = convertNode(value, root, depth);
    }
    if (Object.keys(properties).length > 0) out.properties = properties;
  }
  if (Array.isArray(node.required) && out.properties) {
    const known = Object.keys(out.properties as Schema);
    const required = node.required.filter(
      (name): name is string => typeof name === "string" && known.includes(name),
    );
    if (required.length > 0) out.required = required;
  }

  const items = Array.isArray(node.items) ? node.items[0] : node.items;
  if (isSchema(items)) out.items = convertNode(items, root, depth);

  const alternatives = Array.isArray(node.anyOf)
    ? node.anyOf
    : Array.isArray(node.oneOf)
      ? node.oneOf
      : undefined;
  if (alternatives) {
    const variants = alternatives.filter(isSchema);
    const nonNull = variants.filter((variant) => variant.type !== "null");
    if (nonNull.length < variants.length) nullable = true;
    if (nonNull.length === 1) Object.assign(out, { ...convertNode(nonNull[0]!, root, depth), ...out });
    else if (nonNull.length > 1) out.anyOf = nonNull.map((variant) => convertNode(variant, root, depth));
  }

  if (nullable) out.nullable = true;
  return out;
}

function withoutRef(node: Schema): Schema {
  const { $ref: _ref, ...rest } = node;
  return rest;
}

export function convertToGeminiSchema(schema: Record<string, unknown>): Record<string, unknown> {
  return convertNode(schema, schema, 0);
}

/** Function parameters: Gemini rejects an object schema without properties, so such tools declare none. */
export function convertToGeminiParameters(
  schema: Record<string, unknown>,
): Record<string, unknown> | undefined {
  const converted = convertToGeminiSchema(schema);
  if (converted.type === "object" && converted.properties === undefined && converted.anyOf === undefined)
    return undefined;
  return converted;
}
