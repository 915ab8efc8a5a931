import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION } from "../../shared/schemas/common.js";
import { isApiError } from "../kube-errors.js";

/** A probe timestamp alone is not worth a write more often than this. */
const PROBE_TIME_SLACK_MS = 60_000;
/** Latency moves smaller than this (absolute or relative) are noise, not news. */
const LATENCY_SLACK_MS = 5;
const LATENCY_SLACK_RATIO = 0.1;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function normalize(value: unknown): Json | undefined {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value)) as Json;
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

function close(a: Json | undefined, b: Json | undefined): boolean {
  if (typeof a !== "number" || typeof b !== "number") return a === b;
  return Math.abs(a - b) <= Math.max(LATENCY_SLACK_MS, LATENCY_SLACK_RATIO * Math.max(a, b));
}

/**
 * True when writing `desired` over `current` would change something worth a write. Probe times
 * and latency move on every probe; alone, small moves are not worth a write per collection round
 * (they are refreshed with the next real change, or once the probe time is a minute old).
 */
export function statusChanged(current: unknown, desired: unknown): boolean {
  const cur = normalize(current) ?? {};
  const next = normalize(desired) ?? {};
  if (!isObject(cur) || !isObject(next)) return !deepEqual(cur, next);
  const comparable = { ...next };
  if (typeof cur.lastProbeTime === "string" && typeof next.lastProbeTime === "string") {
    const drift = Math.abs(Date.parse(next.lastProbeTime) - Date.parse(cur.lastProbeTime));
    if (drift >= PROBE_TIME_SLACK_MS) return true;
    comparable.lastProbeTime = cur.lastProbeTime;
  }
  if (isObject(cur.latency) && isObject(next.latency)) {
    const [a, b] = [cur.latency, next.latency];
    if (close(a.p50Ms, b.p50Ms) && close(a.p95Ms, b.p95Ms)) comparable.latency = a;
  }
  return !deepEqual(cur, comparable);
}

/** A JSON merge patch that turns `current` into exactly `desired` (absent keys become null). */
export function replacementPatch(current: unknown, desired: unknown): Json {
  const next = normalize(desired) ?? null;
  if (!isObject(next) || !isObject(current)) return next;
  const patch: Record<string, Json> = {};
  for (const [key, value] of Object.entries(next)) patch[key] = replacementPatch(current[key], value);
  for (const key of Object.keys(current)) if (!(key in next)) patch[key] = null;
  return patch;
}

export interface StatusTarget {
  plural: "llmproviders" | "llmroutes";
  namespace: string;
  name: string;
  currentStatus: unknown;
}

/** Patches the status subresource, and only when the desired status differs from the current one. */
export class StatusWriter {
  constructor(private readonly api: CustomObjectsApi) {}

  /** Returns true if it wrote; false when nothing changed or the object is gone. */
  async write(target: StatusTarget, desired: unknown): Promise<boolean> {
    if (!statusChanged(target.currentStatus, desired)) return false;
    try {
      await this.api.patchNamespacedCustomObjectStatus(
        {
          group: API_GROUP,
          version: API_VERSION,
          namespace: target.namespace,
          plural: target.plural,
          name: target.name,
          body: { status: replacementPatch(target.currentStatus ?? {}, desired) },
          fieldManager: "switchboard-operator",
        },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      return true;
    } catch (err) {
      if (isApiError(err, 404)) return false;
      throw err;
    }
  }
}
