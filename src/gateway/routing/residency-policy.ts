import type { CompiledProvider, CompiledRoute } from "../../shared/schemas/gateway-config.js";

/**
 * Whether a route's data-residency policy admits a provider. A provider that declares no
 * residency facts is only admitted by routes without a residency policy: unknown is not allowed.
 */
export function residencyAllows(route: CompiledRoute, provider: CompiledProvider): boolean {
  const policy = route.policy.dataResidency;
  if (!policy) return true;
  const facts = provider.dataResidency;
  if (policy.allowedBoundaries?.length) {
    if (!facts || !policy.allowedBoundaries.includes(facts.boundary)) return false;
  }
  if (policy.allowedRegions?.length) {
    if (!facts?.region || !policy.allowedRegions.includes(facts.region)) return false;
  }
  return true;
}

export function describePolicy(route: CompiledRoute): string {
  const policy = route.policy.dataResidency;
  const parts: string[] = [];
  if (policy?.allowedBoundaries?.length) parts.push(`boundaries ${policy.allowedBoundaries.join(", ")}`);
  if (policy?.allowedRegions?.length) parts.push(`regions ${policy.allowedRegions.join(", ")}`);
  return parts.join("; ");
}
