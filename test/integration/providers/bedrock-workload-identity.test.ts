import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createAdapter } from "../../../src/gateway/providers/adapter-registry.js";
import type { ProviderAdapter } from "../../../src/gateway/providers/provider-adapter.js";
import type { CompiledProvider, ResolvedCredentials } from "../../../src/shared/schemas/gateway-config.js";
import {
  createClusterTokenIssuer,
  startAwsStsFake,
  startEksPodIdentityAgentFake,
  type AwsStsFake,
  type ClusterTokenIssuer,
  type EksPodIdentityAgentFake,
  type TemporaryCredentials,
} from "../../fakes/aws-credentials-fake.js";
import { startBedrockFake } from "../../fakes/bedrock-fake.js";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { callContext, collectStream, testProvider, userTurn, watchSecrets } from "./adapter-test-kit.js";

/*
 * Keyless Bedrock access on EKS, through the AWS SDK's own default chain and its own endpoint
 * overrides: IRSA (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE → STS AssumeRoleWithWebIdentity at
 * AWS_ENDPOINT_URL_STS) and EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI +
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE). The environment is process-global, so this file owns
 * it: vitest runs each file in its own fork, and the original environment is restored at the end.
 */

const REGION = "us-east-1";
const MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0";
const EMBED_MODEL = "amazon.titan-embed-text-v2:0";
const GATEWAY_ROLE = "arn:aws:iam::111122223333:role/switchboard-bedrock";
const OTHER_ROLE = "arn:aws:iam::111122223333:role/team-a-bedrock";
const GATEWAY_SA = { namespace: "switchboard-system", serviceAccount: "switchboard-gateway" };
const MINUTE = 60_000;

const TIMEOUTS = { connectMs: 2000, firstTokenMs: 10_000, idleMs: 10_000, totalMs: 20_000 };

let workDir: string;
let oidc: ClusterTokenIssuer;
let providerCounter = 0;
/** Everything secret this file hands out, to prove none of it reaches an error or the output. */
const watch = watchSecrets();
const { secrets, failure } = watch;

function providerFor(endpoint: string, credentials: ResolvedCredentials): CompiledProvider {
  return testProvider({
    // One id per adapter: the SDK client, and so its credential cache, is kept per provider id.
    id: `ai/bedrock-wi-${++providerCounter}`,
    type: "bedrock",
    endpoint,
    region: REGION,
    credentials,
    models: [
      { name: "haiku", upstreamModel: MODEL, kind: "chat", supportsTools: true },
      { name: "titan", upstreamModel: EMBED_MODEL, kind: "embedding", dimensions: 256, supportsTools: false },
    ],
    timeouts: TIMEOUTS,
    healthCheck: { intervalMs: 30000, timeoutMs: 5000, probe: "completion" },
  });
}

const ctx = () => callContext({ timeouts: TIMEOUTS });
const ask = (text: string) => userTurn(MODEL, text);

/** A Bedrock fake that accepts only the session credentials `lookup` knows: no long-term key is used here. */
function bedrockAccepting(lookup: AwsStsFake["lookup"]): Promise<FakeServer> {
  return startBedrockFake({
    accessKeyId: "AKIANOTUSEDINTHISFILE",
    secretAccessKey: "not-used-in-this-file",
    region: REGION,
    temporaryCredentials: lookup,
  });
}

/** The access key id a SigV4 request was signed with. */
function signedWith(request: FakeServer["requests"][number]): string | undefined {
  return /Credential=([^/]+)\//.exec(String(request.headers.authorization))?.[1];
}

/** One more call; true once it went out signed with the newest issued session. */
async function renewed(
  adapter: ProviderAdapter,
  upstream: FakeServer,
  issued: TemporaryCredentials[],
): Promise<boolean> {
  await adapter.chat(ask("renewed?"), ctx());
  return issued.length > 1 && signedWith(upstream.requests.at(-1)!) === issued.at(-1)!.accessKeyId;
}

function remember(issued: TemporaryCredentials[]): void {
  for (const c of issued) secrets.add(c.secretAccessKey).add(c.sessionToken);
}

function writeToken(name: string, token: string): string {
  const file = join(workDir, name);
  writeFileSync(file, token);
  secrets.add(token);
  return file;
}

function mintToken(
  audience: string,
  overrides: { namespace?: string; expiresInSeconds?: number } = {},
): string {
  return oidc.mint({ ...GATEWAY_SA, audience, ...overrides });
}

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), "bedrock-wi-"));
  oidc = createClusterTokenIssuer();
  for (const key of Object.keys(process.env)) if (key.startsWith("AWS_")) delete process.env[key];
  // No shared config or credentials files, and no EC2 metadata service to wait for: the chain
  // finds only what each test injects, as in a pod.
  process.env.AWS_CONFIG_FILE = join(workDir, "no-config");
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(workDir, "no-credentials");
  process.env.AWS_EC2_METADATA_DISABLED = "true";
  watch.captureOutput();
});

afterAll(() => {
  watch.restore();
  rmSync(workDir, { recursive: true, force: true });
});

afterEach(() => {
  vi.useRealTimers();
  for (const key of [
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ENDPOINT_URL_STS",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
  ])
    delete process.env[key];
});

describe("bedrock with IRSA (web identity token → STS AssumeRoleWithWebIdentity)", () => {
  let sts: AwsStsFake;
  let bedrock: FakeServer;

  beforeEach(async () => {
    sts = await startAwsStsFake({
      oidc,
      roles: {
        [GATEWAY_ROLE]: ["system:serviceaccount:switchboard-system:switchboard-gateway"],
        [OTHER_ROLE]: ["system:serviceaccount:switchboard-system:switchboard-gateway"],
      },
    });
    bedrock = await bedrockAccepting(sts.lookup);
  });
  afterEach(async () => {
    remember(sts.issued);
    await Promise.all([sts.close(), bedrock.close()]);
  });

  /** What EKS's pod identity webhook injects for a ServiceAccount annotated with a role ARN. */
  function irsaEnv(token = mintToken("sts.amazonaws.com"), roleArn = GATEWAY_ROLE): string {
    process.env.AWS_ROLE_ARN = roleArn;
    process.env.AWS_WEB_IDENTITY_TOKEN_FILE = writeToken("irsa-token", token);
    process.env.AWS_ENDPOINT_URL_STS = sts.url;
    return token;
  }

  it("workloadIdentity {} reads the chain at the first call, assumes the role once and signs with the session credentials", async () => {
    // Built before the pod environment exists: nothing may be resolved until a request needs it.
    const adapter = createAdapter(providerFor(bedrock.url, { mode: "workloadIdentity" }));
    const token = irsaEnv();
    expect(sts.requests).toHaveLength(0);

    expect((await adapter.chat(ask("Hello there"), ctx())).content).toBe("You said: Hello there");
    const events = await collectStream(await adapter.chatStream(ask("stream please"), ctx()));
    expect(
      events
        .filter((e) => e.type === "text-delta")
        .map((e) => e.text)
        .join(""),
    ).toBe("You said: stream please");
    expect((await adapter.embed({ model: EMBED_MODEL, input: ["a", "b"] }, ctx())).vectors).toHaveLength(2);

    expect(sts.assumeRoleCalls).toHaveLength(1);
    expect(sts.assumeRoleCalls[0]).toMatchObject({
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      RoleArn: GATEWAY_ROLE,
      WebIdentityToken: token,
    });
    // AssumeRoleWithWebIdentity is an unsigned call: the token is the proof.
    expect(sts.requests[0]!.headers.authorization).toBeUndefined();
    const [credentials] = sts.issued;
    expect(bedrock.requests).toHaveLength(4);
    for (const request of bedrock.requests) {
      expect(signedWith(request)).toBe(credentials!.accessKeyId);
      expect(request.headers["x-amz-security-token"]).toBe(credentials!.sessionToken);
    }
  });

  it("workloadIdentity {roleArn} assumes that role with the pod's token, whatever AWS_ROLE_ARN says", async () => {
    const adapter = createAdapter(
      providerFor(bedrock.url, { mode: "workloadIdentity", roleArn: OTHER_ROLE }),
    );
    irsaEnv();
    await adapter.chat(ask("Hello there"), ctx());
    expect(sts.assumeRoleCalls).toHaveLength(1);
    expect(sts.assumeRoleCalls[0]!.RoleArn).toBe(OTHER_ROLE);
    expect(sts.assumeRoleCalls[0]!.RoleSessionName).toBe("switchboard-gateway");
    expect(sts.issued[0]!.roleArn).toBe(OTHER_ROLE);
    expect(signedWith(bedrock.requests[0]!)).toBe(sts.issued[0]!.accessKeyId);
  });

  it.each([
    ["the default chain (workloadIdentity {})", { mode: "workloadIdentity" } as ResolvedCredentials],
    [
      "an explicit role (workloadIdentity {roleArn})",
      { mode: "workloadIdentity", roleArn: GATEWAY_ROLE } as ResolvedCredentials,
    ],
  ])(
    "with %s, refreshes the session before it expires with the kubelet's rotated token, and after an idle expiry",
    async (_label, credentials) => {
      vi.useFakeTimers({ toFake: ["Date"] });
      const start = Date.now();
      const adapter = createAdapter(providerFor(bedrock.url, credentials));
      irsaEnv();
      await adapter.chat(ask("first"), ctx());
      expect(sts.issued).toHaveLength(1);
      const first = sts.issued[0]!;

      // 50 minutes in, ten minutes remain: the cached session keeps serving.
      vi.setSystemTime(start + 50 * MINUTE);
      await adapter.chat(ask("cached"), ctx());
      expect(sts.issued).toHaveLength(1);

      // The kubelet rewrote the projected token file meanwhile; 56 minutes in, under the SDK's
      // five-minute window, the next call triggers a refresh that presents the new token.
      const rotated = mintToken("sts.amazonaws.com");
      writeToken("irsa-token", rotated);
      vi.setSystemTime(start + 56 * MINUTE);
      // The default chain refreshes in the background and keeps serving the still-valid session
      // meanwhile; an explicitly configured role refreshes before the call goes out.
      await adapter.chat(ask("refresh"), ctx());
      await expect.poll(() => renewed(adapter, bedrock, sts.issued)).toBe(true);
      expect(sts.issued).toHaveLength(2);
      const second = sts.issued[1]!;
      expect(sts.assumeRoleCalls[1]!.WebIdentityToken).toBe(rotated);
      expect(second.issuedAt.getTime()).toBeLessThan(first.expiration.getTime());
      expect(signedWith(bedrock.requests.at(-1)!)).toBe(second.accessKeyId);

      // An idle gateway whose session lapsed gets a new one instead of sending expired keys.
      vi.setSystemTime(start + 3 * 60 * MINUTE);
      writeToken("irsa-token", mintToken("sts.amazonaws.com"));
      expect((await adapter.chat(ask("after idle"), ctx())).content).toBe("You said: after idle");
      expect(sts.issued).toHaveLength(3);
      expect(signedWith(bedrock.requests.at(-1)!)).toBe(sts.issued[2]!.accessKeyId);
    },
  );

  it("reports a token STS does not accept as an authentication error, with no Bedrock call and no token in the message", async () => {
    const adapter = createAdapter(providerFor(bedrock.url, { mode: "workloadIdentity" }));
    irsaEnv(mintToken("sts.amazonaws.com", { expiresInSeconds: -60 }));
    const err = await failure(adapter.chat(ask("x"), ctx()));
    expect(sts.assumeRoleCalls).toHaveLength(1);
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toContain("ExpiredTokenException");
    expect(bedrock.requests).toHaveLength(0);

    irsaEnv(mintToken("api://some-other-audience"));
    const audience = await failure(
      createAdapter(providerFor(bedrock.url, { mode: "workloadIdentity" })).chat(ask("x"), ctx()),
    );
    expect(audience.errorClass).toBe("authentication");
    expect(audience.message).toContain("InvalidIdentityToken");
  });

  it("reports a role whose trust policy does not name the gateway's ServiceAccount as an authentication error", async () => {
    const adapter = createAdapter(providerFor(bedrock.url, { mode: "workloadIdentity" }));
    irsaEnv(mintToken("sts.amazonaws.com", { namespace: "team-b" }));
    const err = await failure(adapter.chat(ask("x"), ctx()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toContain("AccessDenied");
    expect(err.message).toContain("sts:AssumeRoleWithWebIdentity");
    expect(bedrock.requests).toHaveLength(0);
  });

  it("reports a pod without any workload identity as credentials the gateway could not load", async () => {
    process.env.AWS_ENDPOINT_URL_STS = sts.url;
    const adapter = createAdapter(providerFor(bedrock.url, { mode: "workloadIdentity" }));
    const err = await failure(adapter.chat(ask("x"), ctx()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toContain("could not load AWS credentials");
    expect(sts.requests).toHaveLength(0);
    expect(bedrock.requests).toHaveLength(0);
  });
});

describe("bedrock with EKS Pod Identity (the node agent's container credentials endpoint)", () => {
  let agent: EksPodIdentityAgentFake;
  let bedrock: FakeServer;

  beforeEach(async () => {
    agent = await startEksPodIdentityAgentFake({
      oidc,
      associations: { "switchboard-system/switchboard-gateway": GATEWAY_ROLE },
    });
    bedrock = await bedrockAccepting(agent.lookup);
  });
  afterEach(async () => {
    remember(agent.issued);
    await Promise.all([agent.close(), bedrock.close()]);
  });

  /** What the EKS Pod Identity webhook injects for a ServiceAccount with an association. */
  function podIdentityEnv(token = mintToken("pods.eks.amazonaws.com")): string {
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = agent.credentialsUrl;
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = writeToken("eks-pod-identity-token", token);
    return token;
  }

  it("gets credentials from the agent with the projected token and signs Bedrock calls with them", async () => {
    const adapter = createAdapter(providerFor(bedrock.url, { mode: "workloadIdentity" }));
    const token = podIdentityEnv();
    expect(agent.requests).toHaveLength(0);
    expect((await adapter.chat(ask("Hello there"), ctx())).content).toBe("You said: Hello there");
    await collectStream(await adapter.chatStream(ask("stream"), ctx()));

    expect(agent.requests).toHaveLength(1);
    expect(agent.requests[0]!.method).toBe("GET");
    expect(agent.requests[0]!.headers.authorization).toBe(token);
    const [credentials] = agent.issued;
    expect(credentials!.roleArn).toBe(GATEWAY_ROLE);
    for (const request of bedrock.requests) {
      expect(signedWith(request)).toBe(credentials!.accessKeyId);
      expect(request.headers["x-amz-security-token"]).toBe(credentials!.sessionToken);
    }
  });

  it("refreshes before expiry with the rotated token file, and after an idle expiry", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const adapter = createAdapter(providerFor(bedrock.url, { mode: "workloadIdentity" }));
    podIdentityEnv();
    await adapter.chat(ask("first"), ctx());
    const first = agent.issued[0]!;

    vi.setSystemTime(start + 5 * 60 * MINUTE);
    await adapter.chat(ask("cached"), ctx());
    expect(agent.issued).toHaveLength(1);

    const rotated = mintToken("pods.eks.amazonaws.com");
    writeToken("eks-pod-identity-token", rotated);
    vi.setSystemTime(start + 6 * 60 * MINUTE - 4 * MINUTE);
    await adapter.chat(ask("refresh"), ctx());
    await expect.poll(() => renewed(adapter, bedrock, agent.issued)).toBe(true);
    expect(agent.issued).toHaveLength(2);
    expect(agent.requests[1]!.headers.authorization).toBe(rotated);
    expect(agent.issued[1]!.issuedAt.getTime()).toBeLessThan(first.expiration.getTime());
    expect(signedWith(bedrock.requests.at(-1)!)).toBe(agent.issued[1]!.accessKeyId);

    vi.setSystemTime(start + 24 * 60 * MINUTE);
    writeToken("eks-pod-identity-token", mintToken("pods.eks.amazonaws.com"));
    expect((await adapter.chat(ask("after idle"), ctx())).content).toBe("You said: after idle");
    expect(signedWith(bedrock.requests.at(-1)!)).toBe(agent.issued[2]!.accessKeyId);
  });

  it("reports a ServiceAccount without a Pod Identity association as an authentication error", async () => {
    const adapter = createAdapter(providerFor(bedrock.url, { mode: "workloadIdentity" }));
    podIdentityEnv(mintToken("pods.eks.amazonaws.com", { namespace: "team-b" }));
    const err = await failure(adapter.chat(ask("x"), ctx()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toContain("could not load AWS credentials");
    expect(agent.requests.length).toBeGreaterThan(0);
    expect(bedrock.requests).toHaveLength(0);
  });
});

describe("bedrock workload identity: nothing secret leaves the gateway", () => {
  it("no issued credential or ServiceAccount token appears in errors, the gateway log or the process output", () => {
    watch.expectNoneWritten(10);
  });
});
