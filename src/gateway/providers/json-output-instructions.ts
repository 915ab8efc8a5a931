/**
 * System-prompt instructions for JSON output, for upstreams without a native setting for the
 * requested response format (Anthropic and Bedrock have no "any JSON object" mode).
 */

export const JSON_OBJECT_INSTRUCTION =
  "Respond with a single valid JSON object and nothing else: no prose before or after it, no code fences.";

export function jsonSchemaInstruction(schema: Record<string, unknown>): string {
  return `Respond with a single valid JSON value that conforms to this JSON Schema, and nothing else: no prose before or after it, no code fences.\n${JSON.stringify(schema)}`;
}
