import { describe, expect, it } from "vitest";
import {
  vertexBaseUrl,
  vertexModelUrl,
} from "../../../../../src/gateway/providers/vertex/vertex-endpoint.js";

describe("Vertex endpoints", () => {
  it("uses the regional host, the global host, or a multi-region host", () => {
    expect(vertexBaseUrl("europe-west4")).toBe("https://europe-west4-aiplatform.googleapis.com");
    expect(vertexBaseUrl("global")).toBe("https://aiplatform.googleapis.com");
    expect(vertexBaseUrl("eu")).toBe("https://aiplatform.eu.rep.googleapis.com");
  });

  it("builds publisher model paths, keeping Claude's @version literal and escaping the rest", () => {
    expect(
      vertexModelUrl("https://h", "p", "global", "anthropic", "claude-sonnet-4-5@20250929", "rawPredict"),
    ).toBe(
      "https://h/v1/projects/p/locations/global/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict",
    );
    expect(vertexModelUrl("https://h", "p", "us-central1", "google", "a/../b", "predict")).toBe(
      "https://h/v1/projects/p/locations/us-central1/publishers/google/models/a%2F..%2Fb:predict",
    );
  });
});
