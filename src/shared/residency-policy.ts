import type { CompiledProvider, CompiledRoute } from "./schemas/gateway-config.js";

/**
 * Whether a route's data-residency policy admits a provider. A provider that declares no
 * residency facts is only admitted by routes without a residency policy: unknown is not allowed.
 * The gateway filters every request's targets with it; the operator reports it in route status.
 */
export function residencyAllows(
  route: Pick<CompiledRoute, "policy">,
  provider: Pick<CompiledProvider, "dataResidency">,
): boolean {
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

export function describePolicy(route: Pick<CompiledRoute, "policy">): string {
  const policy = route.policy.dataResidency;
  const parts: string[] = [];
  if (policy?.allowedBoundaries?.length) parts.push(`boundaries ${policy.allowedBoundaries.join(", ")}`);
  if (policy?.allowedRegions?.length) parts.push(`regions ${policy.allowedRegions.join(", ")}`);
  return parts.join("; ");
}

/** A provider's residency facts in words, e.g. `provider-cloud, us-east-1` or `no residency declared`. */
export function describeResidency(provider: Pick<CompiledProvider, "dataResidency">): string {
  const facts = provider.dataResidency;
  if (!facts) return "no spec.dataResidency";
  return facts.region ? `${facts.boundary}, ${facts.region}` : facts.boundary;
}

/** Reason of the compile warning (and the route's Ready=False) when a policy admits no target. */
export const RESIDENCY_EXCLUDES_ALL_TARGETS = "ResidencyExcludesAllTargets";
