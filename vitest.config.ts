import { defineConfig } from "vitest/config";

const shared = { pool: "forks" as const, testTimeout: 30_000, hookTimeout: 600_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: "unit", include: ["test/unit/**/*.test.ts"] } },
      {
        test: {
          ...shared,
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          // One real kube-apiserver + etcd for the run (or the cluster KUBECONFIG points at).
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
