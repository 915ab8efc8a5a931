import type { CompiledConsumer, CompiledRoute } from "../../shared/schemas/gateway-config.js";
import type { GatewayMetrics } from "../metrics.js";
import { BUDGET_EPSILON, type AdmissionCheck, type SharedState } from "../shared-state/shared-state.js";
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
 * Per-consumer requests/min, tokens/min and spend budget, as listed in a route's spec.consumers
 * (so they count per route and consumer). Admission checks all three in one atomic step (one round
 * trip to Redis) that takes nothing when any of them refuses, and holds the request's worst case
 * of tokens and spend until it settles.
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
    metrics.budgetSpent.reset();
    metrics.budgetLimit.reset();
    const now = this.now();
    for (const [scope, seen] of this.budgetsSeen) {
      // A period that ended takes its spend with it, so an alert on it resolves.
      if (now >= seen.end) {
        this.budgetsSeen.delete(scope);
        continue;
      }
      metrics.budgetSpent.set(seen.labels, seen.spent);
      metrics.budgetLimit.set(seen.labels, seen.usd);
    }
  }

  /** Admits one request, holding `reservation`, or throws a 429 naming the limit. */
  async admit(
    route: CompiledRoute,
    consumer: CompiledConsumer,
    reservation: Reservation,
  ): Promise<ConsumerAdmission> {
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = consumer.limits;
    const who = `consumer "${consumer.name}" on route ${route.id}`;
    const scope = `${route.id}/${consumer.name}`;
    const rpmKey = `rpm:consumer:${scope}`;
    const tpmKey = `tpm:consumer:${scope}`;
    const tpmSpec = tpm === undefined ? undefined : perMinute(tpm);
    const reservedTokens = reservation.promptTokens + reservation.outputTokens;
    const budget = consumer.budget && {
      ...consumer.budget,
      ...budgetWindow(consumer.budget.period, this.now()),
    };
    const budgetKey = budget && `budget:${scope}:${budget.period}:${budget.start}`;
    // Kept an hour past the period's end, so a request settling late still finds its hold.
    const budgetTtlMs = () => budget!.end - this.now() + 3_600_000;
    const budgetCheck = (amount: number): AdmissionCheck => ({
      kind: "budget",
      key: budgetKey!,
      limit: budget!.usd,
      amount,
      ttlMs: budgetTtlMs(),
    });
    const seeSpend = (spent: number) => {
      const labels = { route: route.id, consumer: consumer.name, period: budget!.period };
      this.budgetsSeen.set(scope, { labels, usd: budget!.usd, end: budget!.end, spent });
    };
    const budgetRefusal = (spent: number, held: number, cost: number): LimitExceededError => {
      seeSpend(spent);
      const per = `${usd(budget!.usd)} per ${budget!.period}`;
      const resets = `it resets at ${new Date(budget!.end).toISOString()}`;
      const untilReset = budget!.end - this.now();
      if (spent >= budget!.usd) {
        return new LimitExceededError(
          "budget",
          `${who} has spent its budget of ${per} (${usd(spent)} used); ${resets}`,
          untilReset,
        );
      }
      const left = `${who} has ${usd(budget!.usd - spent)} left of its budget of ${per} (${usd(spent)} used)`;
      if (spent + cost > budget!.usd + BUDGET_EPSILON) {
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
    };

    // Checked in this order: a request over several limits is refused naming the first.
    const limits: Array<{
      check: AdmissionCheck;
      refusal: (wait: number, value: number, held: number) => Error;
    }> = [];
    if (rpm !== undefined) {
      limits.push({
        check: { kind: "bucket", key: rpmKey, spec: perMinute(rpm), amount: 1 },
        refusal: (wait) =>
          new LimitExceededError("consumer", `${who} is over its limit of ${rpm} requests per minute`, wait),
      });
    }
    if (tpmSpec) {
      limits.push({
        check: { kind: "bucket", key: tpmKey, spec: tpmSpec, amount: reservedTokens },
        refusal: (wait) =>
          new LimitExceededError(
            "consumer",
            `${who} is over its limit of ${tpm} tokens per minute: this request needs up to ${reservedTokens} ` +
              `(${reservation.promptTokens} for its prompt, ${reservation.outputTokens} for the answer; lower max_tokens to need less)`,
            wait,
          ),
      });
    }
    if (budget) {
      limits.push({
        check: budgetCheck(reservation.usd),
        refusal: (_wait, spent, held) => budgetRefusal(spent, held, reservation.usd),
      });
    }
    const admitted = await this.state.admit(limits.map((limit) => limit.check));
    if (!admitted.allowed) {
      throw limits[admitted.refusedBy]!.refusal(admitted.retryAfterMs, admitted.value, admitted.held);
    }

    // Tokens taken from the bucket for this request, and how many a stream may use before asking
    // for more: a request larger than the whole bucket was let through on a full bucket, but a
    // stream of it is still cut once it uses more than the bucket holds.
    let heldTokens = tpmSpec ? reservedTokens : 0;
    let coveredTokens = tpmSpec ? Math.min(reservedTokens, tpmSpec.capacity) : Infinity;
    let heldUsd = budget ? reservation.usd : 0;
    let settled = false;
    return {
      consumer,
      use: async (totalTokens, totalCostUsd) => {
        const moreTokens = tpmSpec ? totalTokens - coveredTokens : 0;
        const moreUsd = budget ? totalCostUsd - heldUsd : 0;
        const checks: AdmissionCheck[] = [];
        if (moreTokens > 0) checks.push({ kind: "bucket", key: tpmKey, spec: tpmSpec!, amount: moreTokens });
        if (moreUsd > BUDGET_EPSILON) checks.push(budgetCheck(moreUsd));
        if (checks.length === 0) return;
        const more = await this.state.admit(checks);
        if (!more.allowed) {
          const cut = "; the response was cut";
          throw checks[more.refusedBy]!.kind === "bucket"
            ? new LimitExceededError(
                "consumer",
                `${who} went over its limit of ${tpm} tokens per minute${cut}`,
                more.retryAfterMs,
              )
            : new LimitExceededError(
                "budget",
                `${budgetRefusal(more.value, more.held, moreUsd).message}${cut}`,
                budget!.end - this.now(),
              );
        }
        if (moreTokens > 0) {
          heldTokens += moreTokens;
          coveredTokens += moreTokens;
        }
        if (moreUsd > BUDGET_EPSILON) heldUsd += moreUsd;
      },
      settle: async (totalTokens, totalCostUsd) => {
        if (settled) return;
        settled = true;
        const tokenCorrection = tpmSpec ? totalTokens - heldTokens : 0;
        await Promise.all([
          tokenCorrection !== 0
            ? this.state.takeTokens(tpmKey, tpmSpec!, tokenCorrection, "force")
            : undefined,
          budget && (heldUsd !== 0 || totalCostUsd !== 0)
            ? this.state.settleBudget(budgetKey!, heldUsd, totalCostUsd, budgetTtlMs()).then(seeSpend)
            : undefined,
        ]);
      },
    };
  }
}

interface BudgetSeen {
  labels: { route: string; consumer: string; period: BudgetPeriod };
  usd: number;
  end: number;
  spent: number;
}
