import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gcpMetadata } from "google-auth-library";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createAdapter } from "../../../src/gateway/providers/adapter-registry.js";
import type { CompiledProvider } from "../../../src/shared/schemas/gateway-config.js";
import { createClusterTokenIssuer, type ClusterTokenIssuer } from "../../fakes/aws-credentials-fake.js";
import type { RecordedRequest } from "../../fakes/fake-http-server.js";
import { startVertexFake, type VertexFake } from "../../fakes/vertex-fake.js";
import { callContext, collectStream, testProvider, userTurn, watchSecrets } from "./adapter-test-kit.js";

/*
 * Keyless Vertex AI access through google-auth-library's Application Default Credentials, with
 * the library's own endpoint overrides: the GKE metadata server (GKE Workload Identity) through
 * GCE_METADATA_HOST, and Workload Identity Federation through GOOGLE_APPLICATION_CREDENTIALS
 * pointing at an external_account file whose token_url is the fake Google STS. The environment is
 * process-global, so this file owns it (vitest runs each file in its own fork) and restores it.
 */

const PROJECT = "switchboard-test";
const REGION = "us-east5";
const GEMINI = "gemini-2.5-flash";
const EMBED = "text-embedding-005";
const PROJECT_NUMBER = "123456789012";
const POOL_AUDIENCE = `//iam.googleapis.com/projects/${PROJECT_NUMBER}/locations/global/workloadIdentityPools/aks-pool/providers/aks-oidc`;
const MINUTE = 60_000;
const TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token";

const TIMEOUTS = { connectMs: 2000, firstTokenMs: 10_000, idleMs: 10_000, totalMs: 20_000 };

let workDir: string;
let issuer: ClusterTokenIssuer;
let fake: VertexFake;
let providerCounter = 0;
const watch = watchSecrets();
const { secrets, failure } = watch;

function providerFor(): CompiledProvider {
  return testProvider({
    id: `ai/vertex-wi-${++providerCounter}`,
    type: "vertex",
    endpoint: fake.url,
    region: REGION,
    project: PROJECT,
    credentials: { mode: "workloadIdentity" },
    models: [
      { name: "flash", upstreamModel: GEMINI, kind: "chat", supportsTools: true },
      { name: "embed", upstreamModel: EMBED, kind: "embedding", supportsTools: false },
    ],
    timeouts: TIMEOUTS,
  });
}

const ctx = () => callContext({ timeouts: TIMEOUTS });
const ask = (text: string) => userTurn(GEMINI, text);

const bearer = (request: RecordedRequest): string | undefined =>
  String(request.headers.authorization ?? "").replace(/^Bearer /, "") || undefined;

/** Whether an access token the fake issued is still accepted at this (possibly faked) time. */
async function stillAccepted(token: string): Promise<boolean> {
  const res = await fetch(
    `${fake.url}/v1/projects/${PROJECT}/locations/${REGION}/publishers/google/models/${GEMINI}:countTokens`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] }),
    },
  );
  return res.status === 200;
}

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), "vertex-wi-"));
  issuer = createClusterTokenIssuer(
    "https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111/",
  );
  for (const key of [
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GCE_METADATA_HOST",
    "GCE_METADATA_IP",
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
    "GOOGLE_CLOUD_QUOTA_PROJECT",
    "METADATA_SERVER_DETECTION",
  ])
    delete process.env[key];
  // No gcloud well-known ADC file: only what each test injects.
  process.env.CLOUDSDK_CONFIG = join(workDir, "gcloud");
  watch.captureOutput();
});

afterAll(() => {
  watch.restore();
  rmSync(workDir, { recursive: true, force: true });
});

beforeEach(async () => {
  // A fresh "process" for metadata server detection, which google-auth-library caches globally.
  gcpMetadata.resetIsAvailableCache();
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  fake = await startVertexFake({
    project: PROJECT,
    region: REGION,
    serviceAccountEmail: `switchboard-gateway@${PROJECT}.iam.gserviceaccount.com`,
    serviceAccountPublicKey: publicKey,
    workloadIdentityPool: {
      audience: POOL_AUDIENCE,
      issuer: issuer.issuer,
      issuerPublicKey: issuer.publicKey,
    },
  });
});

afterEach(async () => {
  vi.useRealTimers();
  for (const token of fake.issuedTokens) secrets.add(token);
  delete process.env.GCE_METADATA_HOST;
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  await fake.close();
});

describe("vertex with GKE Workload Identity (the metadata server through ADC)", () => {
  it("asks the metadata server for a cloud-platform token at the first call and sends exactly that token", async () => {
    const adapter = createAdapter(providerFor());
    process.env.GCE_METADATA_HOST = fake.metadataHost;
    expect(fake.authRequests).toHaveLength(0);

    expect((await adapter.chat(ask("Hello there"), ctx())).content).toBe("You said: Hello there");
    await collectStream(await adapter.chatStream(ask("stream"), ctx()));
    await adapter.embed({ model: EMBED, input: ["a"] }, ctx());

    const tokenRequests = fake.authRequests.filter((r) => r.url.startsWith(TOKEN_PATH));
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]!.headers["metadata-flavor"]).toBe("Google");
    expect(new URL(tokenRequests[0]!.url, "http://x").searchParams.get("scopes")).toBe(
      "https://www.googleapis.com/auth/cloud-platform",
    );
    expect(fake.issuedTokens).toHaveLength(1);
    expect(fake.requests).toHaveLength(3);
    for (const request of fake.requests) expect(bearer(request)).toBe(fake.issuedTokens[0]);
    // spec.project names the project: no lookups of it on the metadata server, gcloud or Google.
    expect(fake.authRequests.filter((r) => r.url.includes("/project/"))).toHaveLength(0);
  });

  it("refreshes the token before it expires, and after an idle expiry", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const adapter = createAdapter(providerFor());
    process.env.GCE_METADATA_HOST = fake.metadataHost;
    await adapter.chat(ask("first"), ctx());

    vi.setSystemTime(start + 50 * MINUTE);
    await adapter.chat(ask("cached"), ctx());
    expect(fake.issuedTokens).toHaveLength(1);

    // Under google-auth-library's five-minute threshold the call waits for a fresh token.
    vi.setSystemTime(start + 56 * MINUTE);
    await adapter.chat(ask("refresh"), ctx());
    expect(fake.issuedTokens).toHaveLength(2);
    expect(bearer(fake.requests.at(-1)!)).toBe(fake.issuedTokens[1]);
    expect(await stillAccepted(fake.issuedTokens[0]!)).toBe(true);

    vi.setSystemTime(start + 3 * 60 * MINUTE);
    expect((await adapter.chat(ask("after idle"), ctx())).content).toBe("You said: after idle");
    expect(fake.issuedTokens).toHaveLength(3);
    expect(bearer(fake.requests.at(-1)!)).toBe(fake.issuedTokens[2]);
  });

  it("recovers when the metadata server was not reachable yet at the first call", async () => {
    // GKE's metadata server can take a few seconds to serve a new pod.
    process.env.GCE_METADATA_HOST = "127.0.0.1:1";
    const adapter = createAdapter(providerFor());
    const early = await failure(adapter.chat(ask("too early"), ctx()));
    expect(early.errorClass).toBe("authentication");
    expect(early.message).toContain("no Google Application Default Credentials");

    process.env.GCE_METADATA_HOST = fake.metadataHost;
    expect((await adapter.chat(ask("ready now"), ctx())).content).toBe("You said: ready now");
    expect(bearer(fake.requests.at(-1)!)).toBe(fake.issuedTokens[0]);
  });
});

describe("vertex with Workload Identity Federation (external_account → Google STS token exchange)", () => {
  /** The credential configuration `gcloud iam workload-identity-pools create-cred-config` writes. */
  function federationEnv(subjectToken: string): string {
    const tokenFile = join(workDir, "federated-token");
    writeFileSync(tokenFile, subjectToken);
    secrets.add(subjectToken);
    const configFile = join(workDir, "credential-configuration.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        universe_domain: "googleapis.com",
        type: "external_account",
        audience: POOL_AUDIENCE,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        token_url: fake.stsTokenUrl,
        credential_source: { file: tokenFile, format: { type: "text" } },
      }),
    );
    process.env.GOOGLE_APPLICATION_CREDENTIALS = configFile;
    return tokenFile;
  }

  const mint = (audience = `https:${POOL_AUDIENCE}`, expiresInSeconds?: number): string =>
    issuer.mint({
      namespace: "switchboard-system",
      serviceAccount: "switchboard-gateway",
      audience,
      expiresInSeconds,
    });

  it("exchanges the projected ServiceAccount token at token_url and sends the federated token to Vertex", async () => {
    const adapter = createAdapter(providerFor());
    const subjectToken = mint();
    federationEnv(subjectToken);

    expect((await adapter.chat(ask("Hello there"), ctx())).content).toBe("You said: Hello there");
    await adapter.embed({ model: EMBED, input: ["a", "b"] }, ctx());

    expect(fake.authRequests).toHaveLength(1);
    const exchange = fake.authRequests[0]!;
    expect(exchange.method).toBe("POST");
    expect(exchange.url).toBe("/v1/token");
    expect(Object.fromEntries(new URLSearchParams(exchange.body))).toMatchObject({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      audience: POOL_AUDIENCE,
      requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
      subject_token: subjectToken,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      scope: "https://www.googleapis.com/auth/cloud-platform",
    });
    expect(fake.issuedTokens).toHaveLength(1);
    for (const request of fake.requests) expect(bearer(request)).toBe(fake.issuedTokens[0]);
  });

  it("refreshes before expiry with the rotated subject token, and after an idle expiry", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const adapter = createAdapter(providerFor());
    const tokenFile = federationEnv(mint());
    await adapter.chat(ask("first"), ctx());

    vi.setSystemTime(start + 50 * MINUTE);
    await adapter.chat(ask("cached"), ctx());
    expect(fake.issuedTokens).toHaveLength(1);

    const rotated = mint();
    writeFileSync(tokenFile, rotated);
    secrets.add(rotated);
    vi.setSystemTime(start + 56 * MINUTE);
    await adapter.chat(ask("refresh"), ctx());
    expect(fake.issuedTokens).toHaveLength(2);
    expect(new URLSearchParams(fake.authRequests[1]!.body).get("subject_token")).toBe(rotated);
    expect(bearer(fake.requests.at(-1)!)).toBe(fake.issuedTokens[1]);
    expect(await stillAccepted(fake.issuedTokens[0]!)).toBe(true);

    vi.setSystemTime(start + 3 * 60 * MINUTE);
    const afterIdle = mint();
    writeFileSync(tokenFile, afterIdle);
    secrets.add(afterIdle);
    expect((await adapter.chat(ask("after idle"), ctx())).content).toBe("You said: after idle");
    expect(bearer(fake.requests.at(-1)!)).toBe(fake.issuedTokens[2]);
  });

  it("reports a subject token STS rejects as an authentication error, without the token and without a Vertex call", async () => {
    const adapter = createAdapter(providerFor());
    const subjectToken = mint("api://wrong-audience");
    federationEnv(subjectToken);
    const err = await failure(adapter.chat(ask("x"), ctx()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toContain("HTTP 400 invalid_grant");
    expect(err.message).not.toContain(subjectToken);
    expect(fake.requests).toHaveLength(0);
  });

  it("reports an external_account file naming a pool that does not exist as an authentication error", async () => {
    const adapter = createAdapter(providerFor());
    federationEnv(mint());
    const config = JSON.parse(readFileSync(process.env.GOOGLE_APPLICATION_CREDENTIALS!, "utf8")) as Record<
      string,
      unknown
    >;
    writeFileSync(
      process.env.GOOGLE_APPLICATION_CREDENTIALS!,
      JSON.stringify({ ...config, audience: POOL_AUDIENCE.replace("aks-pool", "deleted-pool") }),
    );
    const err = await failure(adapter.chat(ask("x"), ctx()));
    expect(err.errorClass).toBe("authentication");
    expect(err.message).toContain("HTTP 400 invalid_target");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("vertex workload identity: nothing secret leaves the gateway", () => {
  it("no access token or subject token appears in errors, the gateway log or the process output", () => {
    watch.expectNoneWritten(5);
  });
});
