/** Layering (docs/architecture.md#layers): imports point down the layers, never in a circle. */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
    {
      name: "shared-is-the-bottom",
      severity: "error",
      from: { path: "^src/shared" },
      to: { path: "^src/(gateway|operator|migration|cli)" },
    },
    {
      name: "operator-never-reaches-into-gateway",
      severity: "error",
      from: { path: "^src/operator" },
      to: { path: "^src/gateway" },
    },
    {
      name: "shared-state-below-cache-and-limits",
      severity: "error",
      from: { path: "^src/gateway/shared-state" },
      to: { path: "^src/gateway/(cache|limits|routing|server|ingress)" },
    },
    {
      name: "providers-below-routing",
      severity: "error",
      from: { path: "^src/gateway/providers" },
      to: { path: "^src/gateway/(routing|ingress|server|cache|usage)" },
    },
  ],
  options: { tsConfig: { fileName: "tsconfig.json" }, doNotFollow: { path: "node_modules" } },
};
