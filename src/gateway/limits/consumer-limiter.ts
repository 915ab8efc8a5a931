import type { CompiledConsumer, CompiledRoute } from "../../shared/schemas/gateway-config.js";
import type { GatewayMetrics } from "../metrics.js";
import type { ConsumerUsage } from "../../shared/schemas/gateway-state.js";
import {
  BUDGET_EPSILON,
  type AdmissionCheck,
  type BucketSpec,
  type SharedState,
} from "../shared-state/shared-state.js";
import { budgetWindow, type BudgetPeriod } from "./budget-period.js";
import { LimitExceededError } from "./limit-exceeded-error.js";
import { perMinute } from "./provider-limiter.js";
import type { Reservation } from "./request-reservation.js";

/**
 * What one admitted request holds of its consumer's limits: its worst case (see Reservation)
 * until it settles. A stream reports its use as it flows and is cut if it needs more than it holds
 * and the limits have no more to give.
 */
export interface ConsumerAdmission {
  readonly consumer: CompiledConsumer;
  /**
   * What a stream has used so far, prompt and output: free within what the request holds; beyond
   * it, asks the limits for more and throws a LimitExceededError (which cuts the stream) if refused.
   */
  use(totalTokens: number, totalCostUsd: number): Promise<void>;
  /** Gives back what was held and charges the true totals (0, 0 for a failed request); never throws. */
  settle(totalTokens: number, totalCostUsd: number): Promise<void>;
}

function usd(amount: number): string {
  return `$${amount < 1 ? amount.toPrecision(3) : amount.toFixed(2)}`;
}

/** How long a refused request should wait when requests in flight hold the budget it needs. */
const HELD_RETRY_MS = 1_000;

/**
 * The limits one request passes through: its consumer's on its route, and the consumer's team's
 * across the namespace. Each has its own keys, so a team's count is one across routes.
 */
interface LimitScope {
  /** Names it in refusals: `consumer "a" on route ns/chat`, `team "t" of namespace ns`. */
  who: string;
  /** What its keys are built from; distinct between scopes. */
  key: { rpm: string; tpm: string; budget: string };
  limits: { requestsPerMinute?: number; tokensPerMinute?: number };
  budget?: { usd: number; period: BudgetPeriod };
  /** Where its spend is shown. */
  gauge: BudgetSeen["gauge"];
}

function scopesOf(route: CompiledRoute, consumer: CompiledConsumer): LimitScope[] {
  const own = `${route.id}/${consumer.name}`;
  const scopes: LimitScope[] = [
    {
      who: `consumer "${consumer.name}" on route ${route.id}`,
      key: { rpm: `rpm:consumer:${own}`, tpm: `tpm:consumer:${own}`, budget: `budget:${own}` },
      limits: consumer.limits,
      budget: consumer.budget,
      gauge: { kind: "consumer", labels: { route: route.id, consumer: consumer.name } },
    },
  ];
  const team = consumer.team;
  if (team) {
    const [namespace, name] = [route.namespace, team.id.slice(route.namespace.length + 1)];
    scopes.push({
      who: `team "${name}" of namespace ${namespace} (consumer "${consumer.name}" on route ${route.id})`,
      key: { rpm: `rpm:team:${team.id}`, tpm: `tpm:team:${team.id}`, budget: `budget:team:${team.id}` },
      limits: team.limits,
      budget: team.budget,
      gauge: { kind: "team", labels: { team: team.id } },
    });
  }
  return scopes;
}

/** One scope's limits for one request: its checks, and what the request holds of them. */
class ScopeHold {
  readonly tpmSpec: BucketSpec | undefined;
  readonly budget: { usd: number; period: BudgetPeriod; start: number; end: number } | undefined;
  readonly budgetKey: string | undefined;
  /** Tokens taken from the bucket for this request. */
  heldTokens = 0;
  /**
   * How many a stream may use before asking for more: a request larger than the whole bucket was
   * let through on a full bucket, but a stream of it is still cut once it uses more than the bucket holds.
   */
  coveredTokens = Infinity;
  heldUsd = 0;

  constructor(
    readonly scope: LimitScope,
    private readonly now: () => number,
  ) {
    const tpm = scope.limits.tokensPerMinute;
    this.tpmSpec = tpm === undefined ? undefined : perMinute(tpm);
    this.budget = scope.budget && { ...scope.budget, ...budgetWindow(scope.budget.period, now()) };
    this.budgetKey = this.budget && `${scope.key.budget}:${this.budget.period}:${this.budget.start}`;
  }

  /** Kept an hour past the period's end, so a request settling late still finds its hold. */
  budgetTtlMs(): number {
    return this.budget!.end - this.now() + 3_600_000;
  }

  budgetCheck(amount: number): AdmissionCheck {
    return {
      kind: "budget",
      key: this.budgetKey!,
      limit: this.budget!.usd,
      amount,
      ttlMs: this.budgetTtlMs(),
    };
  }

  tpmCheck(amount: number): AdmissionCheck {
    return { kind: "bucket", key: this.scope.key.tpm, spec: this.tpmSpec!, amount };
  }

  held(reservedTokens: number, usd: number): void {
    if (this.tpmSpec) {
      this.heldTokens = reservedTokens;
      this.coveredTokens = Math.min(reservedTokens, this.tpmSpec.capacity);
    }
    if (this.budget) this.heldUsd = usd;
  }
}

/** A limit to check at admission, with the refusal it gives. */
interface Limit {
  check: AdmissionCheck;
  refusal: (wait: number, value: number, held: number) => Error;
}

/**
 * Per-consumer requests/min, tokens/min and spend budget, as listed in a route's spec.consumers
 * (so they count per route and consumer), and the same for the consumer's team (counted once
 * across every route of the namespace that names it). Admission checks them all in one atomic
 * step (one round trip to Redis) that takes nothing when any of them refuses, and holds the
 * request's worst case of tokens and spend until it settles.
 */
export class ConsumerLimiter {
  /** Each budget's spend in its current period as this replica last saw it, for the budget gauges. */
  private readonly budgetsSeen = new Map<string, BudgetSeen>();

  constructor(
    private readonly state: SharedState,
    private readonly now: () => number = Date.now,
    metrics?: GatewayMetrics,
  ) {
    if (metrics) metrics.refreshBudgetGauges = () => this.refreshBudgetGauges(metrics);
  }

  private refreshBudgetGauges(metrics: GatewayMetrics): void {
    for (const gauge of [
      metrics.budgetSpent,
      metrics.budgetLimit,
      metrics.teamBudgetSpent,
      metrics.teamBudgetLimit,
    ])
      gauge.reset();
    const now = this.now();
    for (const [key, seen] of this.budgetsSeen) {
      // A period that ended takes its spend with it, so an alert on it resolves.
      if (now >= seen.end) {
        this.budgetsSeen.delete(key);
        continue;
      }
      if (seen.gauge.kind === "consumer") {
        const labels = { ...seen.gauge.labels, period: seen.period };
        metrics.budgetSpent.set(labels, seen.spent);
        metrics.budgetLimit.set(labels, seen.usd);
      } else {
        const labels = { ...seen.gauge.labels, period: seen.period };
        metrics.teamBudgetSpent.set(labels, seen.spent);
        metrics.teamBudgetLimit.set(labels, seen.usd);
      }
    }
  }

  private seeSpend(hold: ScopeHold, spent: number): void {
    const budget = hold.budget!;
    this.budgetsSeen.set(hold.scope.key.budget, {
      gauge: hold.scope.gauge,
      period: budget.period,
      usd: budget.usd,
      end: budget.end,
      spent,
    });
  }

  private budgetRefusal(hold: ScopeHold, spent: number, held: number, cost: number): LimitExceededError {
    this.seeSpend(hold, spent);
    const { who } = hold.scope;
    const budget = hold.budget!;
    const per = `${usd(budget.usd)} per ${budget.period}`;
    const resets = `it resets at ${new Date(budget.end).toISOString()}`;
    const untilReset = budget.end - this.now();
    if (spent >= budget.usd) {
      return new LimitExceededError(
        "budget",
        `${who} has spent its budget of ${per} (${usd(spent)} used); ${resets}`,
        untilReset,
      );
    }
    const left = `${who} has ${usd(budget.usd - spent)} left of its budget of ${per} (${usd(spent)} used)`;
    if (spent + cost > budget.usd + BUDGET_EPSILON) {
      return new LimitExceededError(
        "budget",
        `${left}, and this request could cost up to ${usd(cost)}; lower max_tokens, or wait: ${resets}`,
        untilReset,
      );
    }
    return new LimitExceededError(
      "budget",
      `${left}, of which requests in flight hold ${usd(held)}, and this request could cost up to ${usd(cost)}; retry when they finish`,
      HELD_RETRY_MS,
    );
  }

  /** Checked in this order: a request over several limits is refused naming the first. */
  private limitsOf(hold: ScopeHold, reservation: Reservation): Limit[] {
    const { who, limits: scopeLimits, key } = hold.scope;
    const rpm = scopeLimits.requestsPerMinute;
    const reservedTokens = reservation.promptTokens + reservation.outputTokens;
    const limits: Limit[] = [];
    if (rpm !== undefined) {
      limits.push({
        check: { kind: "bucket", key: key.rpm, spec: perMinute(rpm), amount: 1 },
        refusal: (wait) =>
          new LimitExceededError("consumer", `${who} is over its limit of ${rpm} requests per minute`, wait),
      });
    }
    if (hold.tpmSpec) {
      limits.push({
        check: hold.tpmCheck(reservedTokens),
        refusal: (wait) =>
          new LimitExceededError(
            "consumer",
            `${who} is over its limit of ${scopeLimits.tokensPerMinute} tokens per minute: this request needs up to ${reservedTokens} ` +
              `(${reservation.promptTokens} for its prompt, ${reservation.outputTokens} for the answer; lower max_tokens to need less)`,
            wait,
          ),
      });
    }
    if (hold.budget) {
      limits.push({
        check: hold.budgetCheck(reservation.usd),
        refusal: (_wait, spent, held) => this.budgetRefusal(hold, spent, held, reservation.usd),
      });
    }
    return limits;
  }

  /**
   * Every consumer's requests, tokens and spend in its current budget period, as the shared state
   * holds them (one count across replicas with Redis), for /admin/state and so LLMRoute status.
   */
  async usageReport(routes: readonly CompiledRoute[]): Promise<ConsumerUsage[]> {
    const now = this.now();
    const rows = routes.flatMap((route) =>
      route.consumers.map((consumer) => ({ route, consumer, ...usageWindow(route, consumer, now) })),
    );
    const counts = await this.state.readUsage(rows.map((row) => row.key));
    return rows.map(({ route, consumer, period, start }, i) => ({
      routeId: route.id,
      consumer: consumer.name,
      period,
      periodStart: new Date(start).toISOString(),
      requests: counts[i]!.requests ?? 0,
      tokens: counts[i]!.tokens ?? 0,
      usd: counts[i]!.usd ?? 0,
      ...(consumer.budget ? { budgetUsd: consumer.budget.usd } : {}),
    }));
  }

  /** Counts a finished request's use; off the request's path (not awaited, never throws). */
  private recordUsage(route: CompiledRoute, consumer: CompiledConsumer, tokens: number, usd: number): void {
    if (tokens === 0 && usd === 0) return;
    const { key, end } = usageWindow(route, consumer, this.now());
    void this.state.addUsage(key, { requests: 1, tokens, usd }, end - this.now() + 3_600_000);
  }

  /** Admits one request, holding `reservation`, or throws a 429 naming the limit. */
  async admit(
    route: CompiledRoute,
    consumer: CompiledConsumer,
    reservation: Reservation,
  ): Promise<ConsumerAdmission> {
    const holds = scopesOf(route, consumer).map((scope) => new ScopeHold(scope, this.now));
    const limits = holds.flatMap((hold) => this.limitsOf(hold, reservation));
    const admitted = await this.state.admit(limits.map((limit) => limit.check));
    if (!admitted.allowed) {
      throw limits[admitted.refusedBy]!.refusal(admitted.retryAfterMs, admitted.value, admitted.held);
    }
    for (const hold of holds) hold.held(reservation.promptTokens + reservation.outputTokens, reservation.usd);

    let settled = false;
    return {
      consumer,
      use: async (totalTokens, totalCostUsd) => {
        const asks: Array<{ hold: ScopeHold; check: AdmissionCheck; more: number }> = [];
        for (const hold of holds) {
          const moreTokens = hold.tpmSpec ? totalTokens - hold.coveredTokens : 0;
          const moreUsd = hold.budget ? totalCostUsd - hold.heldUsd : 0;
          if (moreTokens > 0) asks.push({ hold, check: hold.tpmCheck(moreTokens), more: moreTokens });
          if (moreUsd > BUDGET_EPSILON) asks.push({ hold, check: hold.budgetCheck(moreUsd), more: moreUsd });
        }
        if (asks.length === 0) return;
        const more = await this.state.admit(asks.map((ask) => ask.check));
        if (!more.allowed) {
          const { hold, check, more: amount } = asks[more.refusedBy]!;
          const cut = "; the response was cut";
          throw check.kind === "bucket"
            ? new LimitExceededError(
                "consumer",
                `${hold.scope.who} went over its limit of ${hold.scope.limits.tokensPerMinute} tokens per minute${cut}`,
                more.retryAfterMs,
              )
            : new LimitExceededError(
                "budget",
                `${this.budgetRefusal(hold, more.value, more.held, amount).message}${cut}`,
                hold.budget!.end - this.now(),
              );
        }
        for (const { hold, check, more: amount } of asks) {
          if (check.kind === "bucket") {
            hold.heldTokens += amount;
            hold.coveredTokens += amount;
          } else hold.heldUsd += amount;
        }
      },
      settle: async (totalTokens, totalCostUsd) => {
        if (settled) return;
        settled = true;
        this.recordUsage(route, consumer, totalTokens, totalCostUsd);
        await Promise.all(
          holds.flatMap((hold) => {
            const tokenCorrection = hold.tpmSpec ? totalTokens - hold.heldTokens : 0;
            return [
              tokenCorrection !== 0
                ? this.state.takeTokens(hold.scope.key.tpm, hold.tpmSpec!, tokenCorrection, "force")
                : undefined,
              hold.budget && (hold.heldUsd !== 0 || totalCostUsd !== 0)
                ? this.state
                    .settleBudget(hold.budgetKey!, hold.heldUsd, totalCostUsd, hold.budgetTtlMs())
                    .then((spent) => this.seeSpend(hold, spent))
                : undefined,
            ];
          }),
        );
      },
    };
  }
}

/** The period a consumer's use is shown for: its budget's, or a UTC day. */
function usageWindow(
  route: CompiledRoute,
  consumer: CompiledConsumer,
  now: number,
): { key: string; period: BudgetPeriod; start: number; end: number } {
  const period = consumer.budget?.period ?? "day";
  const { start, end } = budgetWindow(period, now);
  return { key: `usage:${route.id}/${consumer.name}:${period}:${start}`, period, start, end };
}

interface BudgetSeen {
  gauge:
    | { kind: "consumer"; labels: { route: string; consumer: string } }
    | { kind: "team"; labels: { team: string } };
  period: BudgetPeriod;
  usd: number;
  end: number;
  spent: number;
}
