import type { Condition } from "../../shared/schemas/common.js";
import type { EventRecorder, ObjectReference } from "../event-recorder.js";

/**
 * Emits one Event per condition whose status changed to True or False: Warning when it went
 * False, Normal when it recovered from False. A False condition whose reason changes (Unhealthy →
 * CircuitOpen) is news too. Moves to or from Unknown are bookkeeping, not news.
 */
export function recordTransitions(
  events: EventRecorder,
  ref: ObjectReference,
  before: readonly Condition[] | undefined,
  after: readonly Condition[] | undefined,
): void {
  const previous = new Map((before ?? []).map((c) => [c.type, c]));
  for (const condition of after ?? []) {
    const old = previous.get(condition.type);
    if (condition.status === "Unknown") continue;
    const sameStatus = old?.status === condition.status;
    if (sameStatus && (condition.status === "True" || old.reason === condition.reason)) continue;
    // Normal Events tell of recovery only: a condition that starts Unknown and becomes True is not news.
    if (condition.status === "True" && old?.status !== "False") continue;
    const type = condition.status === "False" ? "Warning" : "Normal";
    void events.record(
      ref,
      type,
      condition.reason,
      `${condition.type}=${condition.status}: ${condition.message}`,
    );
  }
}
