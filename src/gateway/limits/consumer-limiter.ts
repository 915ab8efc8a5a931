import type { CompiledConsumer, CompiledRoute } from "../../shared/schemas/gateway-config.js";
import type { GatewayMetrics } from "../metrics.js";
import type { AdmissionCheck, SharedState } from "../shared-state/shared-state.js";
import { budgetWindow, type BudgetPeriod } from "./budget-period.js";
import { LimitExceededError } from "./limit-exceeded-error.js";
import { perMinute } from "./provider-limiter.js";

/**
 * What one admitted request owes its consumer's limits. Streams charge as tokens flow, so a stream
 * that crosses the consumer's tokens per minute or budget is cut rather than billed afterwards.
 */
export interface ConsumerAdmission {
  readonly consumer: CompiledConsumer;
  /** Charges more tokens; throws a LimitExceededError once the tokens-per-minute limit is crossed. */
  chargeTokens(tokens: number): Promise<void>;
  /** Charges more spend; throws a LimitExceededError once the budget is crossed. */
  chargeCost(usd: number): Promise<void>;
  /** Final correction to the request's true totals; never throws (the answer was already given). */
  settle(totalTokens: number, totalCostUsd: number): Promise<void>;
}

function usd(amount: number): string {
  return `$${amount < 1 ? amount.toPrecision(3) : amount.toFixed(2)}`;
}

/**
 * Per-consumer requests/min, tokens/min and spend budget, as listed in a route's spec.consumers
 * (so they count per route and consumer). Admission checks all three in one atomic step (one round
 * trip to Redis) that takes nothing when any of them refuses.
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

  /** Admits one request or throws a 429 naming the limit; `estimatedTokens` is reserved up front. */
  async admit(
    route: CompiledRoute,
    consumer: CompiledConsumer,
    estimatedTokens: number,
  ): Promise<ConsumerAdmission> {
    const { requestsPerMinute: rpm, tokensPerMinute: tpm } = consumer.limits;
    const who = `consumer "${consumer.name}" on route ${route.id}`;
    const scope = `${route.id}/${consumer.name}`;
    const rpmKey = `rpm:consumer:${scope}`;
    const tpmKey = `tpm:consumer:${scope}`;
    const budget = consumer.budget && {
      ...consumer.budget,
      ...budgetWindow(consumer.budget.period, this.now()),
    };
    const budgetKey = budget && `budget:${scope}:${budget.period}:${budget.start}`;
    const seeSpend = (spent: number) => {
      const labels = { route: route.id, consumer: consumer.name, period: budget!.period };
      this.budgetsSeen.set(scope, { labels, usd: budget!.usd, end: budget!.end, spent });
    };
    const addSpend = async (amount: number) => {
      const total = await this.state.addToCounter(budgetKey!, amount, budget!.end - this.now() + 3_600_000);
      seeSpend(total);
      return total;
    };
    const budgetError = (spent: number) => {
      seeSpend(spent);
      return new LimitExceededError(
        "budget",
        `${who} has spent its budget of ${usd(budget!.usd)} per ${budget!.period} (${usd(spent)} used); ` +
          `it resets at ${new Date(budget!.end).toISOString()}`,
        budget!.end - this.now(),
      );
    };

    // Checked in this order: a request over several limits is refused naming the first.
    const limits: Array<{ check: AdmissionCheck; refusal: (wait: number, value: number) => Error }> = [];
    if (rpm !== undefined) {
      limits.push({
        check: { kind: "bucket", key: rpmKey, spec: perMinute(rpm), amount: 1 },
        refusal: (wait) =>
          new LimitExceededError("consumer", `${who} is over its limit of ${rpm} requests per minute`, wait),
      });
    }
    if (tpm !== undefined) {
      limits.push({
        check: { kind: "bucket", key: tpmKey, spec: perMinute(tpm), amount: estimatedTokens },
        refusal: (wait) =>
          new LimitExceededError("consumer", `${who} is over its limit of ${tpm} tokens per minute`, wait),
      });
    }
    if (budget) {
      limits.push({
        check: { kind: "ceiling", key: budgetKey!, limit: budget.usd },
        refusal: (_wait, spent) => budgetError(spent),
      });
    }
    const admitted = await this.state.admit(limits.map((limit) => limit.check));
    if (!admitted.allowed) {
      throw limits[admitted.refusedBy]!.refusal(admitted.retryAfterMs, admitted.value);
    }

    let chargedTokens = tpm === undefined ? 0 : estimatedTokens;
    let chargedCost = 0;
    return {
      consumer,
      chargeTokens: async (amount) => {
        if (tpm === undefined || amount <= 0) return;
        chargedTokens += amount;
        const result = await this.state.takeTokens(tpmKey, perMinute(tpm), amount, "force");
        if (result.level < 0) {
          throw new LimitExceededError(
            "consumer",
            `${who} went over its limit of ${tpm} tokens per minute; the response was cut`,
            Math.ceil(-result.level / perMinute(tpm).refillPerMs),
          );
        }
      },
      chargeCost: async (amount) => {
        if (!budget || amount <= 0) return;
        chargedCost += amount;
        const total = await addSpend(amount);
        if (total > budget.usd) throw budgetError(total);
      },
      settle: async (totalTokens, totalCostUsd) => {
        const tokenCorrection = tpm === undefined ? 0 : totalTokens - chargedTokens;
        const costCorrection = budget ? totalCostUsd - chargedCost : 0;
        chargedTokens += tokenCorrection;
        chargedCost += costCorrection;
        await Promise.all([
          tokenCorrection !== 0
            ? this.state.takeTokens(tpmKey, perMinute(tpm!), tokenCorrection, "force")
            : undefined,
          costCorrection !== 0 ? addSpend(costCorrection) : undefined,
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
