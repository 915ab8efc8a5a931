import { AuthenticationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { GatewayError } from "../../shared/errors.js";
import { sha256Hex } from "../../shared/digest.js";

export type TokenReviewResult =
  | { authenticated: false }
  | { authenticated: true; username: string; serviceAccount?: { namespace: string; name: string } };

export interface TokenReviewer {
  review(token: string): Promise<TokenReviewResult>;
}

export interface KubernetesTokenReviewerOptions {
  /** Audiences the token must be valid for; the API server's own audiences when empty. */
  audiences?: string[];
  /** How long a verdict is reused: a revoked token keeps working at most this long. */
  cacheTtlMs?: number;
  /** Shorter reuse of "not authenticated", so a freshly issued token is not refused for long. */
  negativeCacheTtlMs?: number;
  maxCachedTokens?: number;
  now?: () => number;
}

const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

/**
 * Verifies Kubernetes ServiceAccount tokens with the TokenReview API (the gateway's own
 * ServiceAccount needs `create tokenreviews`, e.g. through the system:auth-delegator ClusterRole).
 * Verdicts are cached by the token's sha256, and concurrent reviews of one token share a call.
 */
export class KubernetesTokenReviewer implements TokenReviewer {
  private readonly api: AuthenticationV1Api;
  private readonly cache = new Map<string, { result: TokenReviewResult; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<TokenReviewResult>>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxCached: number;
  private readonly now: () => number;

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: KubernetesTokenReviewerOptions = {},
  ) {
    this.api = kubeConfig.makeApiClient(AuthenticationV1Api);
    this.ttlMs = options.cacheTtlMs ?? 30_000;
    this.negativeTtlMs = options.negativeCacheTtlMs ?? 5_000;
    this.maxCached = options.maxCachedTokens ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async review(token: string): Promise<TokenReviewResult> {
    const key = sha256Hex(token);
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.result;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const call = this.callApi(token).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, call);
    const result = await call;
    if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, {
      result,
      expiresAt: this.now() + (result.authenticated ? this.ttlMs : this.negativeTtlMs),
    });
    return result;
  }

  private async callApi(token: string): Promise<TokenReviewResult> {
    let status;
    try {
      const review = await this.api.createTokenReview({
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenReview",
          spec: { token, audiences: this.options.audiences?.length ? this.options.audiences : undefined },
        },
      });
      status = review.status;
    } catch (err) {
      const code = (err as { code?: number }).code;
      // Never pass the client library's message on: it may quote the request, which holds the token.
      throw new GatewayError(
        "upstream_unavailable",
        code === 403
          ? "the gateway may not verify ServiceAccount tokens: grant its ServiceAccount create on tokenreviews (ClusterRole system:auth-delegator)"
          : `the gateway could not verify the ServiceAccount token with the Kubernetes API${code ? ` (HTTP ${code})` : ""}; retry shortly`,
      );
    }
    const username = status?.user?.username;
    if (!status?.authenticated || !username) return { authenticated: false };
    const sa = SERVICE_ACCOUNT_USER.exec(username);
    return {
      authenticated: true,
      username,
      serviceAccount: sa ? { namespace: sa[1]!, name: sa[2]! } : undefined,
    };
  }
}
