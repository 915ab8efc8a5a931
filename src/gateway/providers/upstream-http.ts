import { Agent, errors as undiciErrors, request, type Dispatcher } from "undici";
import { GatewayError } from "../../shared/errors.js";
import type { CallContext } from "./provider-adapter.js";

/**
 * The one HTTP client every adapter uses: undici with keep-alive pools and the attempt's
 * deadlines applied (connect, time to response headers, idle body), and transport failures
 * mapped into the taxonomy so adapters only map the provider's own error bodies.
 */

const agents = new Map<number, Agent>();

function agentFor(connectMs: number): Agent {
  let agent = agents.get(connectMs);
  if (!agent) {
    agent = new Agent({ connect: { timeout: connectMs }, keepAliveTimeout: 30_000, connections: 256 });
    agents.set(connectMs, agent);
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
  try {
    const res = await request(req.url, {
      method: req.method ?? "POST",
      headers: req.headers,
      body: req.body,
      signal: ctx.signal,
      dispatcher: agentFor(ctx.timeouts.connectMs),
      headersTimeout: ctx.timeouts.firstTokenMs,
      bodyTimeout: ctx.timeouts.idleMs,
    });
    return { status: res.statusCode, headers: flattenHeaders(res.headers), body: res.body };
  } catch (err) {
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
