import { describe, expect, it } from "vitest";
import type {
  CompiledConsumer,
  CompiledRoute,
  GatewayConfig,
} from "../../../../src/shared/schemas/gateway-config.js";
import { ConsumerAuthenticator } from "../../../../src/gateway/auth/consumer-auth.js";
import { sha256Hex } from "../../../../src/shared/digest.js";
import type { TokenReviewer, TokenReviewResult } from "../../../../src/gateway/auth/token-reviewer.js";
import { GatewayError } from "../../../../src/shared/errors.js";

function route(name: string, consumers: CompiledConsumer[]): CompiledRoute {
  return {
    id: `default/${name}`,
    name,
    namespace: "default",
    model: name,
    aliases: [],
    kind: "chat",
    strategy: "priority",
    targets: [],
    fallback: { on: [], maxAttempts: 1 },
    retries: { attempts: 0, backoffMs: 0, maxBackoffMs: 0, respectRetryAfter: true },
    policy: {},
    consumers,
  };
}

const teamA: CompiledConsumer = { name: "team-a", apiKeySha256: sha256Hex("sk-team-a"), limits: {} };
const teamB: CompiledConsumer = { name: "team-b", apiKeySha256: sha256Hex("sk-team-b"), limits: {} };
const robot: CompiledConsumer = {
  name: "robot",
  serviceAccount: { namespace: "apps", name: "robot" },
  limits: {},
};
const routes = {
  open: route("open", []),
  a: route("a-only", [teamA, robot]),
  b: route("b-only", [teamB]),
};
const config: GatewayConfig = { version: "v1", providers: [], routes: Object.values(routes) };
const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

class FakeReviewer implements TokenReviewer {
  calls = 0;
  constructor(private readonly result: TokenReviewResult) {}
  async review(): Promise<TokenReviewResult> {
    this.calls++;
    return this.result;
  }
}

function errorOf(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
  throw new Error("expected a GatewayError");
}

describe("ConsumerAuthenticator", () => {
  const auth = new ConsumerAuthenticator();

  it("lets anyone call a route that lists no consumers", async () => {
    expect(auth.admit(routes.open, await auth.identify(config, undefined), "open")).toBeUndefined();
    expect(auth.admit(routes.open, await auth.identify(config, "garbage"), "open")).toBeUndefined();
  });

  it("admits the consumer whose key hashes to a listed digest", async () => {
    const identity = await auth.identify(config, "sk-team-a");
    expect(auth.admit(routes.a, identity, "a-only")?.name).toBe("team-a");
  });

  it("answers 401 without credentials and 401 for an unknown key, never quoting the key", async () => {
    const missing = errorOf(() => auth.admit(routes.a, { kind: "anonymous" }, "a-only"));
    expect(missing.httpStatus).toBe(401);
    expect(missing.message).toContain("Authorization: Bearer");
    const identity = await auth.identify(config, "sk-wrong-key");
    const error = errorOf(() => auth.admit(routes.a, identity, "a-only"));
    expect(error.errorClass).toBe("authentication");
    expect(error.message).not.toContain("sk-wrong-key");
  });

  it("answers 403 naming the consumer when a valid key is not listed on the route", async () => {
    const identity = await auth.identify(config, "sk-team-b");
    const error = errorOf(() => auth.admit(routes.a, identity, "a-only"));
    expect(error.httpStatus).toBe(403);
    expect(error.message).toContain('consumer "team-b"');
    expect(error.message).toContain("default/a-only");
  });

  it("verifies ServiceAccount tokens with TokenReview and admits listed ServiceAccounts", async () => {
    const reviewer = new FakeReviewer({
      authenticated: true,
      username: "system:serviceaccount:apps:robot",
      serviceAccount: { namespace: "apps", name: "robot" },
    });
    const withReview = new ConsumerAuthenticator(reviewer);
    const identity = await withReview.identify(config, JWT);
    expect(withReview.admit(routes.a, identity, "a-only")?.name).toBe("robot");
    const denied = errorOf(() => withReview.admit(routes.b, identity, "b-only"));
    expect(denied.httpStatus).toBe(403);
    expect(denied.message).toContain("ServiceAccount apps/robot");
  });

  it("rejects a token TokenReview does not authenticate, and non-ServiceAccount users", async () => {
    const invalid = await new ConsumerAuthenticator(new FakeReviewer({ authenticated: false })).identify(
      config,
      JWT,
    );
    expect(errorOf(() => auth.admit(routes.a, invalid, "a-only")).httpStatus).toBe(401);
    const user = await new ConsumerAuthenticator(
      new FakeReviewer({ authenticated: true, username: "alice@example.com" }),
    ).identify(config, JWT);
    expect(errorOf(() => auth.admit(routes.a, user, "a-only")).httpStatus).toBe(403);
  });

  it("says why a ServiceAccount token cannot work when the gateway has no TokenReview", async () => {
    const identity = await auth.identify(config, JWT);
    expect(errorOf(() => auth.admit(routes.a, identity, "a-only")).message).toMatch(/cannot be verified/);
  });

  it("does not call TokenReview for keys that are not JWT-shaped", async () => {
    const reviewer = new FakeReviewer({ authenticated: false });
    await new ConsumerAuthenticator(reviewer).identify(config, "sk-something");
    expect(reviewer.calls).toBe(0);
  });

  it("tells which routes a caller may use (for GET /v1/models)", async () => {
    const a = await auth.identify(config, "sk-team-a");
    expect(
      Object.values(routes)
        .filter((r) => auth.mayUse(r, a))
        .map((r) => r.name),
    ).toEqual(["open", "a-only"]);
    const anonymous = await auth.identify(config, undefined);
    expect(
      Object.values(routes)
        .filter((r) => auth.mayUse(r, anonymous))
        .map((r) => r.name),
    ).toEqual(["open"]);
  });
});
