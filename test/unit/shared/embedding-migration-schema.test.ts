import { describe, expect, it } from "vitest";
import { embeddingMigrationSpecSchema } from "../../../src/shared/schemas/embedding-migration.js";

const store = {
  connectionSecretRef: { name: "pg", key: "url" },
  table: "docs.chunks",
  idColumn: "id",
  textColumn: "body",
  targetColumn: "embedding_next",
  readColumn: "embedding",
  retiredColumn: "embedding_previous",
};
const spec = (postgres: Record<string, unknown> = {}) => ({
  source: { route: "embed-old", dimensions: 1536 },
  target: { route: "embed-new", dimensions: 1024 },
  route: "embed",
  store: { postgres: { ...store, ...postgres } },
});

function problems(value: unknown): string[] {
  const parsed = embeddingMigrationSpecSchema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("EmbeddingMigration spec", () => {
  it("accepts safe identifiers, a schema-qualified table and every where operator", () => {
    expect(
      problems(
        spec({
          table: "public.chunks_2024",
          where: [
            { column: "tenant", op: "eq", value: "acme" },
            { column: "n", op: "ge", value: "3" },
            { column: "lang", op: "in", values: ["en", "de"] },
            { column: "deleted_at", op: "isNull" },
            { column: "_flag", op: "isNotNull" },
          ],
        }),
      ),
    ).toEqual([]);
  });

  it.each([
    ["idColumn", "id; DROP TABLE chunks"],
    ["textColumn", "Body"],
    ["targetColumn", "1st"],
    ["readColumn", 'a"b'],
    ["retiredColumn", "x".repeat(64)],
    ["table", "a.b.c"],
    ["table", "chunks --"],
  ])("refuses %s %j", (field, value) => {
    expect(problems(spec({ [field]: value })).some((p) => p.startsWith(`store.postgres.${field}:`))).toBe(
      true,
    );
  });

  it.each([
    [{ column: "tenant", op: "eq" }],
    [{ column: "tenant", op: "eq", values: ["a"] }],
    [{ column: "tenant", op: "in", value: "a" }],
    [{ column: "tenant", op: "isNull", value: "a" }],
    [{ column: "tenant", op: "like", value: "a%" }],
  ])("refuses the where condition %j", (condition) => {
    expect(problems(spec({ where: [condition] }))).not.toEqual([]);
  });

  it("refuses overlapping vector columns", () => {
    expect(problems(spec({ retiredColumn: "embedding" }))).toEqual([
      "store.postgres: targetColumn, readColumn and retiredColumn must be three different columns, none of them idColumn or textColumn",
    ]);
    expect(problems(spec({ targetColumn: "id" }))).toHaveLength(1);
  });

  it("requires the query route", () => {
    expect(problems({ ...spec(), route: undefined })).toEqual([
      "route: Invalid input: expected string, received undefined",
    ]);
  });
});
