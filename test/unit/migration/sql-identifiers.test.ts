import { describe, expect, it } from "vitest";
import { quoteIdentifier, quoteTable, siblingTable } from "../../../src/migration/sql-identifiers.js";

describe("SQL identifiers", () => {
  it("quotes safe names and schema-qualified tables", () => {
    expect(quoteIdentifier("embedding_v2")).toBe('"embedding_v2"');
    expect(quoteTable("kb.chunks")).toBe('"kb"."chunks"');
    expect(quoteTable("chunks")).toBe('"chunks"');
  });

  it("puts the side tables in the table's schema", () => {
    expect(siblingTable("kb.chunks", "switchboard_migrations")).toBe('"kb"."switchboard_migrations"');
    expect(siblingTable("chunks", "switchboard_migrations")).toBe('"switchboard_migrations"');
  });

  it.each(['a"b', "Chunks", "1a", "a;b", "", "x".repeat(64)])("refuses %j", (name) => {
    expect(() => quoteIdentifier(name)).toThrow(/unsafe SQL identifier/);
  });

  it.each(["a.b.c", "a..b", ".a", "a b"])("refuses the table %j", (name) => {
    expect(() => quoteTable(name)).toThrow(/unsafe SQL table name/);
  });
});
