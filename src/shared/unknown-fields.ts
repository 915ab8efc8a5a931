import { z } from "zod";

/**
 * Fields a manifest sets that its schema does not know. The API server rejects them (kubectl's
 * strict field validation) or prunes them; a manifest read from a file must fare no better, or a
 * typo such as `requestPerMinute` silently leaves a consumer unlimited. Checked against the
 * schema's JSON Schema (what the CRDs are generated from), so every object of every kind is
 * covered without each zod object having to be declared strict.
 */

interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: JsonSchemaNode | boolean;
  items?: JsonSchemaNode;
}

export interface UnknownField {
  /** Dotted path of the field, e.g. `spec.models[0].limits`. */
  field: string;
  message: string;
}

const jsonSchemas = new WeakMap<z.ZodType, JsonSchemaNode>();

function jsonSchemaOf(schema: z.ZodType): JsonSchemaNode {
  let node = jsonSchemas.get(schema);
  if (!node) {
    node = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchemaNode;
    jsonSchemas.set(schema, node);
  }
  return node;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One level of the walk: where it is, in the manifest (`[0]`) and in words (`[]`). */
interface Level {
  path: string;
  generic: string;
  node: JsonSchemaNode;
}

export function findUnknownFields(schema: z.ZodType, value: unknown): UnknownField[] {
  const found: UnknownField[] = [];
  const visit = (value: unknown, level: Level, ancestors: Level[]): void => {
    const { node } = level;
    if (Array.isArray(value)) {
      if (!node.items) return;
      value.forEach((item, index) =>
        visit(
          item,
          { path: `${level.path}[${index}]`, generic: `${level.generic}[]`, node: node.items! },
          ancestors,
        ),
      );
      return;
    }
    if (!isPlainObject(value)) return;
    const open = node.additionalProperties;
    for (const [key, child] of Object.entries(value)) {
      const path = level.path ? `${level.path}.${key}` : key;
      const generic = level.generic ? `${level.generic}.${key}` : key;
      const known = node.properties?.[key] ?? (isPlainObject(open) ? open : undefined);
      if (known) {
        visit(child, { path, generic, node: known }, [...ancestors, level]);
      } else if (open !== true && node.properties) {
        found.push({ field: path, message: unknownFieldMessage(key, path, level, ancestors) });
      }
    }
  };
  visit(value, { path: "", generic: "", node: jsonSchemaOf(schema) }, []);
  return found;
}

function unknownFieldMessage(key: string, path: string, level: Level, ancestors: Level[]): string {
  const where = level.generic || "the top level";
  // A field one level too deep (or shallow) is the usual mistake: point at where it belongs.
  const home = [...ancestors].reverse().find((a) => a.node.properties?.[key]);
  if (home)
    return `${path}: unknown field; "${key}" is a field of ${home.generic || "the top level"}, not of ${where}`;
  const accepted = Object.keys(level.node.properties ?? {}).join(", ");
  return `${path}: unknown field; ${where} takes ${accepted}`;
}
