import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from "@kubernetes/client-node";
import { API_GROUP, API_VERSION } from "../../shared/schemas/common.js";
import { isApiError } from "../kube-errors.js";

/** A probe timestamp alone is not worth a write more often than this. */
const PROBE_TIME_SLACK_MS = 60_000;

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

/** True when writing `desired` over `current` would change something worth a write. */
export function statusChanged(current: unknown, desired: unknown): boolean {
  const cur = normalize(current) ?? {};
  const next = normalize(desired) ?? {};
  if (
    isObject(cur) &&
    isObject(next) &&
    typeof cur.lastProbeTime === "string" &&
    typeof next.lastProbeTime === "string"
  ) {
    const drift = Math.abs(Date.parse(next.lastProbeTime) - Date.parse(cur.lastProbeTime));
    if (drift < PROBE_TIME_SLACK_MS)
      return !deepEqual({ ...cur, lastProbeTime: null }, { ...next, lastProbeTime: null });
  }
  return !deepEqual(cur, next);
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
