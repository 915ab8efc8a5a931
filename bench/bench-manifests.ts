import { writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * The manifests every bench gateway serves: one provider, `instant` (the instant upstream at
 * `upstreamOrigin`, no credentials), with one model, and a route of the same name to it. Written
 * as manifests.yaml into `dir`, the directory `startGateway` serves.
 */
export async function writeBenchManifests(
  dir: string,
  upstreamOrigin: string,
  model: string,
  kind: "chat" | "embedding",
): Promise<void> {
  const yaml = `apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMProvider
metadata:
  name: instant
  namespace: bench
spec:
  type: openai-compatible
  endpoint: ${upstreamOrigin}/v1
  credentials:
    none: {}
  models:
    - name: ${model}${kind === "embedding" ? "\n      kind: embedding" : ""}
---
apiVersion: llm.switchboard.dev/v1alpha1
kind: LLMRoute
metadata:
  name: ${model}
  namespace: bench
spec:
  model: ${model}
  targets:
    - provider: instant
      model: ${model}
`;
  await writeFile(path.join(dir, "manifests.yaml"), yaml);
}
