import { canonicalJson } from "./canonical-json.js";
import type { CompiledConsumer } from "./schemas/gateway-config.js";
import type { LLMRoute } from "./schemas/llm-route.js";

export type CompiledTeam = NonNullable<CompiledConsumer["team"]>;

/** A team declaration the compiler refuses, on the route and consumer that wrote it. */
export interface TeamProblem {
  namespace: string;
  route: string;
  source?: string;
  field: string;
  reason: "TeamConflict" | "TeamWithoutLimits";
  message: string;
}

interface Declaration {
  route: string;
  field: string;
  body: string;
}

/**
 * The teams a namespace's routes name (spec.consumers[].team), keyed `namespace/name`. A team's
 * budget and limits may be written on any one of its consumers, or identically on several; two
 * that differ are refused, as is a team with neither anywhere, rather than picking one silently.
 */
export function compileTeams(
  routes: ReadonlyArray<{ resource: LLMRoute; source?: string; namespace: string }>,
): { teams: Map<string, CompiledTeam>; problems: TeamProblem[] } {
  const teams = new Map<string, CompiledTeam>();
  const declared = new Map<string, Declaration>();
  const named = new Map<string, Omit<TeamProblem, "reason" | "message">>();
  const problems: TeamProblem[] = [];
  for (const { resource, source, namespace } of routes) {
    (resource.spec.consumers ?? []).forEach((consumer, index) => {
      const team = consumer.team;
      if (!team) return;
      const id = `${namespace}/${team.name}`;
      const field = `spec.consumers[${index}].team`;
      const where = { namespace, route: resource.metadata.name, source, field };
      if (!named.has(id)) named.set(id, where);
      if (team.limits === undefined && team.budget === undefined) return;
      const body = canonicalJson({ limits: team.limits ?? {}, budget: team.budget ?? null });
      const first = declared.get(id);
      if (!first) {
        declared.set(id, { route: resource.metadata.name, field, body });
        teams.set(id, { id, limits: { ...team.limits }, budget: team.budget });
      } else if (first.body !== body) {
        problems.push({
          ...where,
          reason: "TeamConflict",
          message:
            `team "${team.name}" has other budget or limits here than on LLMRoute ${namespace}/${first.route} ` +
            `(${first.field}); a team has one budget and one set of limits: write them once, or identically`,
        });
      }
    });
  }
  for (const [id, where] of named) {
    if (teams.has(id)) continue;
    problems.push({
      ...where,
      reason: "TeamWithoutLimits",
      message:
        `team "${id.slice(where.namespace.length + 1)}" has no budget or limits on any route in namespace ` +
        `"${where.namespace}"; write them under spec.consumers[].team on one of its routes`,
    });
  }
  return { teams, problems };
}
