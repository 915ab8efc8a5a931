import {
  createHash,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import type { ServerResponse } from "node:http";
import { startFakeServer, type FakeServer, type RecordedRequest } from "./fake-http-server.js";

/**
 * The two places a pod on EKS gets temporary AWS credentials from, for the SDK's default chain:
 *
 * - AWS STS `AssumeRoleWithWebIdentity` (IRSA): the Query protocol (form POST, `Action` and
 *   `Version=2011-06-15`, unsigned), answering `AssumeRoleWithWebIdentityResponse` XML or an
 *   `ErrorResponse` with STS's codes and statuses. The web identity token is a projected
 *   ServiceAccount token checked like STS does: RS256 signature from a registered OIDC issuer,
 *   audience `sts.amazonaws.com`, not expired, and a `sub` the role's trust policy names.
 *   Reached through `AWS_ENDPOINT_URL_STS`.
 * - The EKS Pod Identity agent (`GET /v1/credentials` on 169.254.170.23 in a cluster): the
 *   projected token (audience `pods.eks.amazonaws.com`) arrives raw in `Authorization`; the answer
 *   is `{AccessKeyId, SecretAccessKey, Token, AccountId, Expiration}`, errors are the agent's
 *   plain-text bodies. Reached through `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
 *
 * Both issue credentials with a chosen lifetime and can look them up by access key id, so the
 * Bedrock fake verifies SigV4 with them and rejects them once expired. Time is `Date.now()`, so
 * tests can move it with fake timers.
 */

export const ACCOUNT_ID = "111122223333";
const STS_AUDIENCE = "sts.amazonaws.com";
const POD_IDENTITY_AUDIENCE = "pods.eks.amazonaws.com";
const STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  roleArn: string;
  issuedAt: Date;
}

/** Credentials a fake issued, by access key id; what the Bedrock fake accepts. */
export type CredentialLookup = (accessKeyId: string) => TemporaryCredentials | undefined;

// ---------------------------------------------------------------- the cluster's token issuer

export interface ServiceAccountTokenClaims {
  namespace: string;
  serviceAccount: string;
  audience: string;
  /** Lifetime from now; negative for an already expired token. */
  expiresInSeconds?: number;
}

/** The cluster's ServiceAccount token issuer (its OIDC provider), signing projected tokens. */
export interface ClusterTokenIssuer {
  issuer: string;
  publicKey: KeyObject;
  mint(claims: ServiceAccountTokenClaims): string;
}

export function createClusterTokenIssuer(
  issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
): ClusterTokenIssuer {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex");
  return {
    issuer,
    publicKey,
    mint({ namespace, serviceAccount, audience, expiresInSeconds = 86_400 }) {
      const now = Math.floor(Date.now() / 1000);
      const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
      const body = `${segment({ alg: "RS256", kid: kid.slice(0, 40) })}.${segment({
        aud: [audience],
        exp: now + expiresInSeconds,
        iat: now,
        nbf: now,
        iss: issuer,
        sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
        "kubernetes.io": {
          namespace,
          pod: { name: `${serviceAccount}-5d9c7b6f4-x2x7k`, uid: randomUUID() },
          serviceaccount: { name: serviceAccount, uid: randomUUID() },
        },
      })}`;
      return `${body}.${sign("RSA-SHA256", Buffer.from(body), privateKey).toString("base64url")}`;
    },
  };
}

interface VerifiedToken {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
}

type TokenCheck =
  | { ok: true; claims: VerifiedToken }
  | {
      ok: false;
      reason: "malformed" | "issuer" | "signature" | "audience" | "expired";
      claims?: VerifiedToken;
    };

function checkToken(token: string, issuer: ClusterTokenIssuer, audience: string): TokenCheck {
  const parts = token.trim().split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  let claims: VerifiedToken;
  try {
    const parsed = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
    claims = {
      iss: String(parsed.iss),
      sub: String(parsed.sub),
      aud: Array.isArray(parsed.aud) ? parsed.aud.map(String) : [String(parsed.aud)],
      exp: Number(parsed.exp),
    };
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (claims.iss !== issuer.issuer) return { ok: false, reason: "issuer", claims };
  const signed = verify(
    "RSA-SHA256",
    Buffer.from(`${parts[0]}.${parts[1]}`),
    issuer.publicKey,
    Buffer.from(parts[2]!, "base64url"),
  );
  if (!signed) return { ok: false, reason: "signature", claims };
  if (!claims.aud.includes(audience)) return { ok: false, reason: "audience", claims };
  if (!(claims.exp * 1000 > Date.now())) return { ok: false, reason: "expired", claims };
  return { ok: true, claims };
}

// ---------------------------------------------------------------- credential store

class CredentialStore {
  readonly issued: TemporaryCredentials[] = [];

  constructor(private readonly lifetimeSeconds: number) {}

  issue(roleArn: string): TemporaryCredentials {
    const now = Date.now();
    const credentials: TemporaryCredentials = {
      // ASIA: the prefix AWS gives temporary (session) access key ids.
      accessKeyId: `ASIA${randomBytes(8).toString("hex").toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString("base64"),
      sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(96).toString("base64")}`,
      // STS reports whole seconds; keep the stored value identical to what the client parses.
      expiration: new Date(Math.floor((now + this.lifetimeSeconds * 1000) / 1000) * 1000),
      roleArn,
      issuedAt: new Date(now),
    };
    this.issued.push(credentials);
    return credentials;
  }

  lookup: CredentialLookup = (accessKeyId) => this.issued.find((c) => c.accessKeyId === accessKeyId);
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// ---------------------------------------------------------------- STS

export interface AwsStsFakeOptions {
  /** The OIDC provider registered in the account (the cluster's ServiceAccount issuer). */
  oidc: ClusterTokenIssuer;
  /** Role ARN → the `sub` values its trust policy allows (system:serviceaccount:<ns>:<name>). */
  roles: Record<string, string[]>;
  /** Lifetime of issued credentials; STS's default for DurationSeconds is one hour. */
  credentialLifetimeSeconds?: number;
}

export interface AwsStsFake extends FakeServer {
  /** AssumeRoleWithWebIdentity calls that reached the handler (form fields). */
  assumeRoleCalls: Array<Record<string, string>>;
  issued: TemporaryCredentials[];
  lookup: CredentialLookup;
}

class StsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function sendStsError(res: ServerResponse, err: StsError): void {
  const body =
    `<ErrorResponse xmlns="${STS_XMLNS}">\n  <Error>\n    <Type>Sender</Type>\n` +
    `    <Code>${err.code}</Code>\n    <Message>${xmlEscape(err.message)}</Message>\n  </Error>\n` +
    `  <RequestId>${randomUUID()}</RequestId>\n</ErrorResponse>\n`;
  res.writeHead(err.status, { "content-type": "text/xml", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const ROLE_SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

function assumeRoleWithWebIdentity(
  form: Record<string, string>,
  options: AwsStsFakeOptions,
  store: CredentialStore,
): string {
  const missing = ["RoleArn", "RoleSessionName", "WebIdentityToken"].find((name) => !form[name]);
  if (missing) {
    throw new StsError(
      400,
      "ValidationError",
      `1 validation error detected: Value null at '${missing.charAt(0).toLowerCase()}${missing.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  const roleArn = form.RoleArn!;
  const sessionName = form.RoleSessionName!;
  if (!ROLE_SESSION_NAME.test(sessionName)) {
    throw new StsError(
      400,
      "ValidationError",
      `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  const arn = ROLE_ARN.exec(roleArn);
  if (!arn) throw new StsError(400, "ValidationError", `${roleArn} is invalid`);
  if (form.DurationSeconds !== undefined) {
    const duration = Number(form.DurationSeconds);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
      throw new StsError(
        400,
        "ValidationError",
        `1 validation error detected: Value '${form.DurationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
      );
    }
  }
  const check = checkToken(form.WebIdentityToken!, options.oidc, STS_AUDIENCE);
  if (!check.ok) {
    switch (check.reason) {
      case "malformed":
        throw new StsError(400, "InvalidIdentityToken", "The ID Token provided is not a valid JWT.");
      case "issuer":
        throw new StsError(
          400,
          "InvalidIdentityToken",
          `No OpenIDConnect provider found in your account for ${check.claims!.iss}`,
        );
      case "signature":
        throw new StsError(400, "InvalidIdentityToken", "Couldn't verify the signature of the ID Token.");
      case "audience":
        throw new StsError(400, "InvalidIdentityToken", "Incorrect token audience");
      case "expired":
        throw new StsError(
          400,
          "ExpiredTokenException",
          `Token expired: current date/time ${Math.floor(Date.now() / 1000)} must be before the expiration date/time${check.claims!.exp}`,
        );
    }
  }
  const trusted = options.roles[roleArn];
  if (!trusted?.includes(check.claims.sub)) {
    throw new StsError(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
  }
  const credentials = store.issue(roleArn);
  const roleName = arn[2]!;
  const roleId = `AROA${createHash("sha256").update(roleArn).digest("hex").slice(0, 17).toUpperCase()}`;
  return (
    `<AssumeRoleWithWebIdentityResponse xmlns="${STS_XMLNS}">\n` +
    `  <AssumeRoleWithWebIdentityResult>\n` +
    `    <Audience>${STS_AUDIENCE}</Audience>\n` +
    `    <AssumedRoleUser>\n` +
    `      <AssumedRoleId>${roleId}:${xmlEscape(sessionName)}</AssumedRoleId>\n` +
    `      <Arn>arn:aws:sts::${arn[1]}:assumed-role/${roleName}/${xmlEscape(sessionName)}</Arn>\n` +
    `    </AssumedRoleUser>\n` +
    `    <Provider>arn:aws:iam::${arn[1]}:oidc-provider/${options.oidc.issuer.replace(/^https:\/\//, "")}</Provider>\n` +
    `    <Credentials>\n` +
    `      <AccessKeyId>${credentials.accessKeyId}</AccessKeyId>\n` +
    `      <SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>\n` +
    `      <SessionToken>${credentials.sessionToken}</SessionToken>\n` +
    `      <Expiration>${isoSeconds(credentials.expiration)}</Expiration>\n` +
    `    </Credentials>\n` +
    `    <SubjectFromWebIdentityToken>${xmlEscape(check.claims.sub)}</SubjectFromWebIdentityToken>\n` +
    `  </AssumeRoleWithWebIdentityResult>\n` +
    `  <ResponseMetadata>\n    <RequestId>${randomUUID()}</RequestId>\n  </ResponseMetadata>\n` +
    `</AssumeRoleWithWebIdentityResponse>\n`
  );
}

export async function startAwsStsFake(options: AwsStsFakeOptions): Promise<AwsStsFake> {
  const store = new CredentialStore(options.credentialLifetimeSeconds ?? 3600);
  const assumeRoleCalls: Array<Record<string, string>> = [];
  const server = await startFakeServer((req: RecordedRequest, res) => {
    try {
      const path = req.url.split("?", 1)[0];
      const contentType = String(req.headers["content-type"] ?? "");
      if (
        req.method !== "POST" ||
        path !== "/" ||
        !contentType.startsWith("application/x-www-form-urlencoded")
      ) {
        throw new StsError(400, "InvalidAction", "Could not find operation for the request.");
      }
      const form = Object.fromEntries(new URLSearchParams(req.body));
      if (form.Version !== "2011-06-15") {
        throw new StsError(
          400,
          "InvalidAction",
          `Could not find operation ${form.Action ?? ""} for version ${form.Version ?? "NO_VERSION_SPECIFIED"}`,
        );
      }
      if (form.Action !== "AssumeRoleWithWebIdentity") {
        throw new StsError(
          400,
          "InvalidAction",
          `Could not find operation ${form.Action ?? ""} for version 2011-06-15`,
        );
      }
      assumeRoleCalls.push(form);
      const body = assumeRoleWithWebIdentity(form, options, store);
      res.writeHead(200, { "content-type": "text/xml", "content-length": Buffer.byteLength(body) });
      res.end(body);
    } catch (err) {
      if (err instanceof StsError) return sendStsError(res, err);
      throw err;
    }
  });
  return { ...server, assumeRoleCalls, issued: store.issued, lookup: store.lookup };
}

// ---------------------------------------------------------------- EKS Pod Identity agent

export interface EksPodIdentityAgentFakeOptions {
  oidc: ClusterTokenIssuer;
  /** Pod Identity associations: "<namespace>/<serviceaccount>" → role ARN. */
  associations: Record<string, string>;
  /** EKS Auth issues six-hour credentials. */
  credentialLifetimeSeconds?: number;
}

export interface EksPodIdentityAgentFake extends FakeServer {
  /** The agent's credentials URL, for AWS_CONTAINER_CREDENTIALS_FULL_URI. */
  credentialsUrl: string;
  issued: TemporaryCredentials[];
  lookup: CredentialLookup;
}

function sendPlainError(res: ServerResponse, status: number, message: string): void {
  // Go's http.Error: text/plain, nosniff, message plus a newline.
  const body = `${message}\n`;
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "x-content-type-options": "nosniff",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

export async function startEksPodIdentityAgentFake(
  options: EksPodIdentityAgentFakeOptions,
): Promise<EksPodIdentityAgentFake> {
  const store = new CredentialStore(options.credentialLifetimeSeconds ?? 6 * 3600);
  const server = await startFakeServer((req, res) => {
    if (req.url.split("?", 1)[0] !== "/v1/credentials") {
      return sendPlainError(res, 404, "404 page not found");
    }
    const token = String(req.headers.authorization ?? "");
    if (!token) return sendPlainError(res, 400, "Service account token cannot be empty");
    const check = checkToken(token, options.oidc, POD_IDENTITY_AUDIENCE);
    const requestId = randomUUID();
    if (!check.ok) {
      if (check.reason === "malformed")
        return sendPlainError(res, 400, "Service account token cannot be parsed: token is malformed");
      if (check.reason === "expired")
        return sendPlainError(
          res,
          400,
          "Service account token failed basic claim validations: token has invalid claims: token is expired",
        );
      return sendPlainError(
        res,
        400,
        `[${requestId}]: (InvalidTokenException): The service account token could not be validated., fault: client`,
      );
    }
    const [, , namespace, serviceAccount] = check.claims.sub.split(":");
    const roleArn = options.associations[`${namespace}/${serviceAccount}`];
    if (!roleArn) {
      return sendPlainError(
        res,
        404,
        `[${requestId}]: (ResourceNotFoundException): No Pod Identity Association found for the service account ${namespace}/${serviceAccount}., fault: client`,
      );
    }
    const credentials = store.issue(roleArn);
    const body = JSON.stringify({
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      Token: credentials.sessionToken,
      AccountId: ROLE_ARN.exec(roleArn)?.[1] ?? ACCOUNT_ID,
      Expiration: credentials.expiration.toISOString(),
    });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  return {
    ...server,
    credentialsUrl: `${server.url}/v1/credentials`,
    issued: store.issued,
    lookup: store.lookup,
  };
}
