import { compile } from "../../src/shared/compile.js";
import type { GatewayConfig } from "../../src/shared/schemas/gateway-config.js";

/**
 * A compiled config of one provider and `routes` routes to it. `salt` makes each call's content
 * (and version) distinct; random aliases keep gzip from squeezing it below one snapshot part.
 */
export function configWithRoutes(routes: number, salt = "model"): GatewayConfig {
  const random = () => Math.random().toString(36).slice(2);
  const objects: unknown[] = [
    {
      apiVersion: "llm.switchboard.dev/v1alpha1",
      kind: "LLMProvider",
      metadata: { name: "p", namespace: "a" },
      spec: {
        type: "openai-compatible",
        endpoint: "http://127.0.0.1:9/v1",
        credentials: { none: {} },
        models: [{ name: "m" }],
      },
    },
  ];
  for (let i = 0; i < routes; i++) {
    objects.push({
      apiVersion: "llm.switchboard.dev/v1alpha1",
      kind: "LLMRoute",
      metadata: { name: `r-${i}`, namespace: "a" },
      spec: {
        model: `${salt}-${i}`,
        aliases: [`${salt}-${random()}${random()}`],
        targets: [{ provider: "p", model: "m" }],
      },
    });
  }
  const result = compile(objects.map((object) => ({ object })));
  if (!result.config) throw new Error(JSON.stringify(result.diagnostics));
  return result.config;
}
