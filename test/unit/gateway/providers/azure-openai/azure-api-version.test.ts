import { describe, expect, it } from "vitest";
import {
  azureRequestOptions,
  DEFAULT_AZURE_API_VERSION,
} from "../../../../../src/gateway/providers/azure-openai/azure-api-version.js";

describe("azureRequestOptions", () => {
  it.each([
    ["2024-02-01", "max_tokens", false],
    ["2024-06-01", "max_tokens", false],
    ["2024-10-21", "max_tokens", true],
    ["2024-08-01-preview", "max_tokens", true],
    ["2024-09-01-preview", "max_completion_tokens", true],
    ["2025-04-01-preview", "max_completion_tokens", true],
    ["latest", "max_completion_tokens", true],
  ] as const)("%s → %s, stream usage %s", (version, field, streamUsage) => {
    expect(azureRequestOptions(version)).toEqual({ maxTokensField: field, streamUsage });
  });

  it("defaults to the newest GA version", () => {
    expect(DEFAULT_AZURE_API_VERSION).toBe("2024-10-21");
  });
});
