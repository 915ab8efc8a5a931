import type { GatewayRuntime } from "../config/gateway-runtime.js";

/** OpenAI's model list: every route model and alias the gateway serves. */
export function listModels(runtime: GatewayRuntime | undefined): Record<string, unknown> {
  const data = [];
  for (const route of runtime?.config.routes ?? []) {
    const created = 0;
    for (const id of [route.model, ...route.aliases]) {
      data.push({
        id,
        object: "model",
        created,
        owned_by: `switchboard:${route.namespace}`,
        switchboard: { route: route.id, kind: route.kind },
      });
    }
  }
  data.sort((a, b) => a.id.localeCompare(b.id));
  return { object: "list", data };
}
