import { describe, expect, it } from "vitest";
import {
  convertToGeminiParameters,
  convertToGeminiSchema,
} from "../../../../../src/gateway/providers/vertex/convert-to-gemini-schema.js";

describe("convertToGeminiSchema", () => {
  it("drops JSON-Schema keywords outside Gemini's subset, at every depth", () => {
    expect(
      convertToGeminiSchema({
        $schema: "http://json-schema.org/draft-07/schema#",
        type: "object",
        additionalProperties: false,
        properties: {
          tags: { type: "array", items: { type: "string", minLength: 1, $comment: "x" }, uniqueItems: true },
          additionalProperties: { type: "string", description: "a property that happens to have this name" },
        },
        required: ["tags"],
      }),
    ).toEqual({
      type: "object",
      properties: {
        tags: { type: "array", items: { type: "string", minLength: 1 } },
        additionalProperties: { type: "string", description: "a property that happens to have this name" },
      },
      required: ["tags"],
    });
  });

  it("turns nullable type arrays and null alternatives into `nullable`", () => {
    expect(convertToGeminiSchema({ type: ["string", "null"] })).toEqual({ type: "string", nullable: true });
    expect(
      convertToGeminiSchema({ anyOf: [{ type: "integer" }, { type: "null" }], description: "count" }),
    ).toEqual({
      type: "integer",
      description: "count",
      nullable: true,
    });
    expect(convertToGeminiSchema({ oneOf: [{ type: "string" }, { type: "number" }] })).toEqual({
      anyOf: [{ type: "string" }, { type: "number" }],
    });
  });

  it("inlines local $refs and degrades cyclic ones to an object", () => {
    const schema = {
      type: "object",
      properties: { home: { $ref: "#/$defs/address" }, node: { $ref: "#/definitions/node" } },
      $defs: { address: { type: "object", properties: { city: { type: "string" } } } },
      definitions: { node: { type: "object", properties: { next: { $ref: "#/definitions/node" } } } },
    };
    const converted = convertToGeminiSchema(schema) as { properties: Record<string, unknown> };
    expect(converted.properties.home).toEqual({ type: "object", properties: { city: { type: "string" } } });
    expect(JSON.stringify(converted)).not.toContain("$ref");
  });

  it("keeps only the formats and enums Gemini accepts", () => {
    expect(convertToGeminiSchema({ type: "string", format: "email" })).toEqual({ type: "string" });
    expect(convertToGeminiSchema({ type: "string", format: "date-time" })).toEqual({
      type: "string",
      format: "date-time",
    });
    expect(convertToGeminiSchema({ const: "celsius" })).toEqual({ type: "string", enum: ["celsius"] });
    expect(convertToGeminiSchema({ type: "integer", enum: [1, 2] })).toEqual({ type: "integer" });
  });

  it("drops `required` names that are not properties", () => {
    expect(
      convertToGeminiSchema({ type: "object", properties: { a: { type: "string" } }, required: ["a", "b"] }),
    ).toEqual({
      type: "object",
      properties: { a: { type: "string" } },
      required: ["a"],
    });
  });
});

describe("convertToGeminiParameters", () => {
  it("declares no parameters for an empty object schema, which Gemini rejects", () => {
    expect(convertToGeminiParameters({ type: "object", properties: {} })).toBeUndefined();
    expect(convertToGeminiParameters({ type: "object", properties: { q: { type: "string" } } })).toEqual({
      type: "object",
      properties: { q: { type: "string" } },
    });
  });
});
