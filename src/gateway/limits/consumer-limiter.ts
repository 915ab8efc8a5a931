import type { CompiledConsumer, CompiledRoute } from "../../shared/schemas/gateway-config.js";
import type { SharedState } from "../shared-state/shared-state.js";
import { budgetWindow } from "./budget-period.js";
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

/** Per-consumer requests/min, tokens/min and spend budget, as listed in a route's spec.consumers. */
export class ConsumerLimiter {
  constructor(
    private readonly state: SharedState,
    private readonly now: () => number = Date.now,
  ) {}

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

    if (rpm !== undefined) {
      const taken = await this.state.takeTokens(rpmKey, perMinute(rpm), 1, "try");
      if (!taken.allowed) {
        throw new LimitExceededError(
          "consumer",
          `${who} is over its limit of ${rpm} requests per minute`,
          taken.retryAfterMs,
        );
      }
    }
    const refundRequest = async () => {
      if (rpm !== undefined) await this.state.takeTokens(rpmKey, perMinute(rpm), -1, "force");
    };
    if (tpm !== undefined) {
      const taken = await this.state.takeTokens(tpmKey, perMinute(tpm), estimatedTokens, "try");
      if (!taken.allowed) {
        await refundRequest();
        throw new LimitExceededError(
          "consumer",
          `${who} is over its limit of ${tpm} tokens per minute`,
          taken.retryAfterMs,
        );
      }
    }

    const budget = consumer.budget;
    const budgetState = budget
      ? (() => {
          const window = budgetWindow(budget.period, this.now());
          return { ...budget, ...window, key: `budget:${scope}:${budget.period}:${window.start}` };
        })()
      : undefined;
    const budgetError = (spent: number) =>
      new LimitExceededError(
        "budget",
        `${who} has spent its budget of ${usd(budgetState!.usd)} per ${budgetState!.period} (${usd(spent)} used); ` +
          `it resets at ${new Date(budgetState!.end).toISOString()}`,
        budgetState!.end - this.now(),
      );
    const addSpend = (amount: number) =>
      this.state.addToCounter(budgetState!.key, amount, budgetState!.end - this.now() + 3_600_000);
    if (budgetState) {
      const spent = await addSpend(0);
      if (spent >= budgetState.usd) {
        if (tpm !== undefined) await this.state.takeTokens(tpmKey, perMinute(tpm), -estimatedTokens, "force");
        await refundRequest();
        throw budgetError(spent);
      }
    }

    let chargedTokens = tpm === undefined ? 0 : estimatedTokens;
    let chargedCost = 0;
    return {
      consumer,
      chargeTokens: async (tokens) => {
        if (tpm === undefined || tokens <= 0) return;
        chargedTokens += tokens;
        const result = await this.state.takeTokens(tpmKey, perMinute(tpm), tokens, "force");
        if (result.level < 0) {
          throw new LimitExceededError(
            "consumer",
            `${who} went over its limit of ${tpm} tokens per minute; the response was cut`,
            Math.ceil(-result.level / perMinute(tpm).refillPerMs),
          );
        }
      },
      chargeCost: async (amount) => {
        if (!budgetState || amount <= 0) return;
        chargedCost += amount;
        const spent = await addSpend(amount);
        if (spent > budgetState.usd) throw budgetError(spent);
      },
      settle: async (totalTokens, totalCostUsd) => {
        if (tpm !== undefined && totalTokens !== chargedTokens) {
          await this.state.takeTokens(tpmKey, perMinute(tpm), totalTokens - chargedTokens, "force");
          chargedTokens = totalTokens;
        }
        if (budgetState && totalCostUsd !== chargedCost) {
          await addSpend(totalCostUsd - chargedCost);
          chargedCost = totalCostUsd;
        }
      },
    };
  }
}
