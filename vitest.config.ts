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
          exclude: ["test/e2e/cluster/**"],
          // One real kube-apiserver + etcd for the run (or the cluster KUBECONFIG points at).
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 60_000,
        },
      },
      // The whole deployment path on a real cluster (npm run test:cluster): only when one is given.
      ...(process.env.SWITCHBOARD_CLUSTER_KUBECONFIG
        ? [
            {
              test: {
                ...shared,
                name: "cluster",
                include: ["test/e2e/cluster/**/*.test.ts"],
                // One node, one chart release: the files take turns.
                poolOptions: { forks: { singleFork: true } },
                globalSetup: ["test/e2e/cluster/release-teardown.ts"],
                testTimeout: 300_000,
              },
            },
          ]
        : []),
    ],
  },
});
