import { describe, expect, it } from "vitest";
import { whereClause } from "../../../src/migration/where-clause.js";

describe("whereClause", () => {
  it("is TRUE without conditions", () => {
    expect(whereClause(undefined, 1)).toEqual({ text: "TRUE", params: [] });
  });

  it("quotes columns and binds every value, numbering from the first free parameter", () => {
    expect(
      whereClause(
        [
          { column: "tenant", op: "eq", value: "acme'; DROP TABLE chunks; --" },
          { column: "lang", op: "in", values: ["en", "de"] },
          { column: "deleted_at", op: "isNull" },
          { column: "rank", op: "ge", value: "3" },
        ],
        3,
      ),
    ).toEqual({
      text: '("tenant" = $3) AND ("lang" = ANY($4)) AND ("deleted_at" IS NULL) AND ("rank" >= $5)',
      params: ["acme'; DROP TABLE chunks; --", ["en", "de"], "3"],
    });
  });

  it("refuses a column that is not a safe identifier even if the schema was bypassed", () => {
    expect(() => whereClause([{ column: 'x" OR 1=1 --', op: "isNull" }], 1)).toThrow(/unsafe SQL identifier/);
  });
});
