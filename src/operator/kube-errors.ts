/** Status code of a failed Kubernetes API call (client-node ApiException or a watch error), if any. */
export function apiStatusCode(err: unknown): number | undefined {
  if (!err || typeof err !== "object") return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === "number") return e.code;
  if (typeof e.statusCode === "number") return e.statusCode;
  return undefined;
}

export function isApiError(err: unknown, code: number): boolean {
  return apiStatusCode(err) === code;
}

/**
 * A one-line description of an API failure: the HTTP code and the API server's Status message,
 * without the headers and raw body client-node puts into its error messages.
 */
export function describeKubeError(err: unknown): string {
  const code = apiStatusCode(err);
  const body = (err as { body?: unknown } | undefined)?.body;
  let message: string | undefined;
  if (typeof body === "string") {
    try {
      message = (JSON.parse(body) as { message?: string }).message;
    } catch {
      message = undefined;
    }
  } else if (body && typeof body === "object") {
    message = (body as { message?: string }).message;
  }
  if (code !== undefined) return `HTTP ${code}${message ? `: ${message}` : ""}`;
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0]!.slice(0, 300);
}
