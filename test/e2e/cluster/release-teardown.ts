/**
 * Vitest globalSetup of the cluster project: the suite's files share one chart release
 * (installRelease), so it is uninstalled once, after the last of them.
 */
import { helm, RELEASE, RELEASE_NAMESPACE } from "./cluster-kit.js";

export async function teardown(): Promise<void> {
  await helm(["uninstall", RELEASE, "-n", RELEASE_NAMESPACE]).catch(() => undefined);
}
