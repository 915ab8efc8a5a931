import { GatewayError } from "../../shared/errors.js";
import type { CompiledConsumer, CompiledRoute, GatewayConfig } from "../../shared/schemas/gateway-config.js";
import { digestsEqual } from "./api-key-hash.js";
import { sha256Hex } from "../../shared/digest.js";
import type { TokenReviewer } from "./token-reviewer.js";

/** Who is calling, as far as the gateway could tell from the presented credential. */
export type CallerIdentity =
  | { kind: "anonymous" }
  | { kind: "apiKey"; sha256: string; consumerName: string }
  | { kind: "serviceAccount"; namespace: string; name: string }
  /** Authenticated by Kubernetes, but not as a ServiceAccount. */
  | { kind: "user"; username: string }
  /** A credential was sent but is not valid; `reason` says why, without quoting it. */
  | { kind: "invalid"; reason: string };

interface ConfigIndex {
  /** API key sha256 → a consumer name using it (for messages about other routes). */
  apiKeys: Map<string, string>;
  hasServiceAccounts: boolean;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Authenticates consumers (API keys compared by sha256, ServiceAccount tokens through TokenReview)
 * and admits them to routes. A route with no consumers is open to everyone.
 */
export class ConsumerAuthenticator {
  private readonly indexes = new WeakMap<GatewayConfig, ConfigIndex>();

  constructor(private readonly reviewer?: TokenReviewer) {}

  private index(config: GatewayConfig): ConfigIndex {
    let index = this.indexes.get(config);
    if (!index) {
      index = { apiKeys: new Map(), hasServiceAccounts: false };
      for (const route of config.routes) {
        for (const consumer of route.consumers) {
          if (consumer.apiKeySha256) index.apiKeys.set(consumer.apiKeySha256, consumer.name);
          if (consumer.serviceAccount) index.hasServiceAccounts = true;
        }
      }
      this.indexes.set(config, index);
    }
    return index;
  }

  async identify(config: GatewayConfig, credential: string | undefined): Promise<CallerIdentity> {
    if (credential === undefined) return { kind: "anonymous" };
    const index = this.index(config);
    const digest = sha256Hex(credential);
    const consumerName = index.apiKeys.get(digest);
    if (consumerName !== undefined) return { kind: "apiKey", sha256: digest, consumerName };
    if (index.hasServiceAccounts && JWT_SHAPE.test(credential)) {
      if (!this.reviewer) {
        return {
          kind: "invalid",
          reason:
            "ServiceAccount tokens cannot be verified by this gateway (it runs outside a cluster and has no --kubeconfig); use an API key",
        };
      }
      const review = await this.reviewer.review(credential);
      if (!review.authenticated)
        return {
          kind: "invalid",
          reason: "the ServiceAccount token is not valid (expired, revoked or for another cluster)",
        };
      if (review.serviceAccount) return { kind: "serviceAccount", ...review.serviceAccount };
      return { kind: "user", username: review.username };
    }
    return { kind: "invalid", reason: "the API key is not valid; check the key you were given" };
  }

  /** The route's consumer the caller is, or undefined on an open route; throws 401/403 otherwise. */
  admit(route: CompiledRoute, identity: CallerIdentity, model: string): CompiledConsumer | undefined {
    if (route.consumers.length === 0) return undefined;
    const consumer = findConsumer(route, identity);
    if (consumer) return consumer;
    const notListed = `model "${model}" does not admit it (LLMRoute ${route.id} spec.consumers); ask the route's owners for access`;
    switch (identity.kind) {
      case "anonymous":
        throw new GatewayError(
          "authentication",
          `model "${model}" needs credentials: send your API key or ServiceAccount token as "Authorization: Bearer <token>"`,
        );
      case "invalid":
        throw new GatewayError("authentication", identity.reason);
      case "apiKey":
        throw new GatewayError(
          "permission",
          `consumer "${identity.consumerName}" is authenticated, but ${notListed}`,
        );
      case "serviceAccount":
        throw new GatewayError(
          "permission",
          `ServiceAccount ${identity.namespace}/${identity.name} is authenticated, but ${notListed}`,
        );
      case "user":
        throw new GatewayError(
          "permission",
          `"${identity.username}" is not a ServiceAccount; routes admit API keys and ServiceAccount tokens only`,
        );
    }
  }

  mayUse(route: CompiledRoute, identity: CallerIdentity): boolean {
    return route.consumers.length === 0 || findConsumer(route, identity) !== undefined;
  }
}

function findConsumer(route: CompiledRoute, identity: CallerIdentity): CompiledConsumer | undefined {
  if (identity.kind === "apiKey") {
    let found: CompiledConsumer | undefined;
    // Compare against every listed key without stopping early, so timing says nothing about which matched.
    for (const consumer of route.consumers) {
      if (consumer.apiKeySha256 && digestsEqual(consumer.apiKeySha256, identity.sha256)) found ??= consumer;
    }
    return found;
  }
  if (identity.kind === "serviceAccount") {
    return route.consumers.find(
      (c) => c.serviceAccount?.namespace === identity.namespace && c.serviceAccount.name === identity.name,
    );
  }
  return undefined;
}
