import { Agent, errors as undiciErrors, request, type Dispatcher } from "undici";
import { GatewayError } from "../../shared/errors.js";
import type { CompiledProvider } from "../../shared/schemas/gateway-config.js";
import type { CallContext } from "./provider-adapter.js";
import { upstreamPoolFor, type PoolSlot } from "./upstream-pool.js";

/**
 * The one HTTP client every adapter uses: undici with keep-alive pools and the attempt's
 * deadlines applied (connect, time to response headers, idle body), and transport failures
 * mapped into the taxonomy so adapters only map the provider's own error bodies. Hand-written
 * rather than the official SDKs: the openai SDK took 5.1× its CPU per call (docs/benchmarks.md,
 * "Upstream client").
 */

/** Health probes bypass the providers' pools: a pool full of streams says nothing about liveness. */
const probeAgents = new Map<number, Agent>();

function probeAgentFor(connectMs: number): Agent {
  let agent = probeAgents.get(connectMs);
  if (!agent) {
    agent = new Agent({ connect: { timeout: connectMs }, keepAliveTimeout: 30_000, connections: 16 });
    probeAgents.set(connectMs, agent);
  }
  return agent;
}

export interface UpstreamRequest {
  url: string;
  method?: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  /** Name for errors: `openai`, `anthropic`... never a URL with credentials. */
  providerName: string;
  /** Whose connection pool the request goes through (spec.connectionPool). */
  provider: CompiledProvider;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Dispatcher.ResponseData["body"];
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) out[key.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

export function mapTransportError(err: unknown, providerName: string, signal: AbortSignal): GatewayError {
  if (err instanceof GatewayError) return err;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof GatewayError) return reason;
    return new GatewayError("timeout", `request to ${providerName} was cancelled before it completed`, {
      provider: providerName,
      cause: err,
    });
  }
  if (err instanceof undiciErrors.ConnectTimeoutError) {
    return new GatewayError("timeout", `connecting to ${providerName} timed out`, {
      provider: providerName,
      cause: err,
    });
  }
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new GatewayError("timeout", `${providerName} did not answer in time`, {
      provider: providerName,
      cause: err,
    });
  }
  const code = (err as { code?: string }).code ?? "";
  return new GatewayError(
    "upstream_unavailable",
    `${providerName} could not be reached (${code || "network error"})`,
    {
      provider: providerName,
      cause: err,
    },
  );
}

export async function sendUpstream(req: UpstreamRequest, ctx: CallContext): Promise<UpstreamResponse> {
  const { firstTokenMs } = ctx.timeouts;
  let slot: PoolSlot | undefined;
  try {
    const pool = ctx.probe ? undefined : upstreamPoolFor(req.provider);
    slot = await pool?.acquire(ctx.signal, firstTokenMs);
    const res = await request(req.url, {
      method: req.method ?? "POST",
      headers: req.headers,
      body: req.body,
      signal: ctx.signal,
      dispatcher: pool?.agent ?? probeAgentFor(ctx.timeouts.connectMs),
      // Waiting for a connection counts against the time to the first token.
      headersTimeout: Math.max(1, firstTokenMs - (slot?.waitedMs ?? 0)),
      bodyTimeout: ctx.timeouts.idleMs,
    });
    // The connection is busy until the body is read to its end, fails or is destroyed.
    if (slot) res.body.once("close", slot.release);
    return { status: res.statusCode, headers: flattenHeaders(res.headers), body: res.body };
  } catch (err) {
    slot?.release();
    throw mapTransportError(err, req.providerName, ctx.signal);
  }
}

/** Reads a whole body as text, mapping transport failures. */
export async function readText(
  res: UpstreamResponse,
  providerName: string,
  signal: AbortSignal,
): Promise<string> {
  try {
    return await res.body.text();
  } catch (err) {
    throw mapTransportError(err, providerName, signal);
  }
}

export async function readJson<T>(
  res: UpstreamResponse,
  providerName: string,
  signal: AbortSignal,
): Promise<T> {
  const text = await readText(res, providerName, signal);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new GatewayError("upstream_unavailable", `${providerName} returned a body that is not JSON`, {
      provider: providerName,
      upstreamStatus: res.status,
    });
  }
}
