import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  verify,
  type KeyObject,
} from "node:crypto";
import type { ServerResponse } from "node:http";
import type { GoogleAuthOptions } from "google-auth-library";
import { sendJson, startFakeServer, type FakeServer, type RecordedRequest } from "./fake-http-server.js";
import { handleAnthropicMessages } from "./anthropic-fake.js";

/**
 * A protocol-faithful stand-in for Vertex AI's regional endpoint (`https://{region}-aiplatform.googleapis.com`)
 * plus, on a second loopback server, the two places Google access tokens come from:
 *
 * - `POST /token`: Google's OAuth token endpoint for service-account keys (JWT-bearer grant, RS256
 *   signature checked against the test key's public key);
 * - `/computeMetadata/v1/...`: the GCE/GKE metadata server that Application Default Credentials and
 *   GKE Workload Identity use (point `GCE_METADATA_HOST` at `metadataHost`);
 * - `POST /v1/token`: Google STS token exchange for Workload Identity Federation (an
 *   `external_account` credential's `token_url`, `stsTokenUrl` here).
 *
 * Model calls live at `/v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}:{method}`
 * and need `Authorization: Bearer <token issued above>`:
 *
 * - google: `generateContent`, `streamGenerateContent` (SSE with `?alt=sse`, otherwise the JSON-array
 *   stream Vertex sends by default), `countTokens`, and `predict` for text-embedding models;
 * - anthropic: `rawPredict` / `streamRawPredict` (the Anthropic fake's Messages handler) and
 *   `count-tokens:rawPredict`.
 *
 * Deterministic answers ("You said: <last user text>", a function call when tools are offered and
 * the text mentions "weather") and trigger words:
 * - TRIGGER_CONTEXT_LENGTH → 400 INVALID_ARGUMENT "The input token count (N) exceeds the maximum number of tokens allowed (M)."
 * - TRIGGER_RATE_LIMIT     → 429 RESOURCE_EXHAUSTED (with a google.rpc.RetryInfo of 7s)
 * - TRIGGER_CONTENT_FILTER → 200 with finishReason SAFETY and no content
 * - TRIGGER_STREAM_ERROR   → in a stream, after the first text chunk, a bare JSON `{"error": {...}}` outside SSE framing
 * Claude models answer with the Anthropic fake's own triggers and error bodies.
 */

export const GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token";
export const VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16";
/**
 * Body versions Claude on Vertex accepts: the documented Vertex one, and the Messages API version
 * that @anthropic-ai/vertex-sdk 1.x copies into the body from its anthropic-version header.
 */
const ACCEPTED_ANTHROPIC_VERSIONS = [VERTEX_ANTHROPIC_VERSION, "2026-10-21"];
const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

export interface VertexFakeOptions {
  project: string;
  region: string;
  /** The service account whose key may sign token grants. */
  serviceAccountEmail: string;
  serviceAccountPublicKey: string | KeyObject;
  /** Lifetime of issued access tokens; google-auth-library refreshes when under 5 minutes remain. */
  tokenLifetimeSeconds?: number;
  /** A Workload Identity Federation OIDC provider whose tokens `POST /v1/token` (STS) exchanges. */
  workloadIdentityPool?: WorkloadIdentityPoolProvider;
}

export interface WorkloadIdentityPoolProvider {
  /** //iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/{pool}/providers/{provider} */
  audience: string;
  /** The external issuer (a cluster's ServiceAccount issuer, say) and its signing key. */
  issuer: string;
  issuerPublicKey: KeyObject;
  /** Audiences the provider accepts in subject tokens; by default its own https:// resource name. */
  allowedAudiences?: string[];
}

export interface VertexFake extends FakeServer {
  /** Google's token endpoint for service-account grants: put it in the key's `token_uri`. */
  tokenUrl: string;
  /** host:port for `GCE_METADATA_HOST`. */
  metadataHost: string;
  /** Google STS token exchange for Workload Identity Federation: an external_account `token_url`. */
  stsTokenUrl: string;
  /** Every access token issued, in order, by any of the grants above. */
  issuedTokens: string[];
  /** Requests to the token endpoint and metadata server (`requests` holds the Vertex API calls). */
  authRequests: RecordedRequest[];
  /** Invalidates every access token issued so far, as a revoked or expired token would be. */
  revokeTokens(): void;
}

export interface TestServiceAccount {
  /** The JSON key a Secret would hold. */
  key: {
    type: "service_account";
    project_id: string;
    private_key_id: string;
    private_key: string;
    client_email: string;
    client_id: string;
    token_uri: string;
  };
  publicKey: KeyObject;
}

/** A fresh RSA service-account key, generated per test run so no key material is committed. */
export function createTestServiceAccount(
  project: string,
  tokenUri: string,
  name = "switchboard-test",
): TestServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    key: {
      type: "service_account",
      project_id: project,
      private_key_id: randomBytes(20).toString("hex"),
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      client_email: `${name}@${project}.iam.gserviceaccount.com`,
      client_id: String(100_000_000_000_000_000_000n + BigInt(randomBytes(4).readUInt32BE())),
      token_uri: tokenUri,
    },
    publicKey,
  };
}

/**
 * Options for SDKs that build their own GoogleAuth: google-auth-library sends service-account
 * grants to Google's token URL whatever the key's token_uri says, so the transport is pointed at it.
 */
export function googleAuthOptionsFor(key: TestServiceAccount["key"]): GoogleAuthOptions {
  const fetchImplementation: typeof fetch = (input, init) =>
    fetch(String(input) === GOOGLE_TOKEN_URL ? key.token_uri : input, init);
  return {
    credentials: key,
    scopes: [CLOUD_PLATFORM_SCOPE],
    clientOptions: { transporterOptions: { fetchImplementation } },
  };
}

type Json = Record<string, unknown>;

class GoogleApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
    readonly details?: Json[],
  ) {
    super(message);
  }
}

function sendGoogleError(res: ServerResponse, err: GoogleApiError): void {
  sendJson(res, err.code, {
    error: {
      code: err.code,
      message: err.message,
      status: err.status,
      ...(err.details ? { details: err.details } : {}),
    },
  });
}

const invalidArgument = (message: string): GoogleApiError =>
  new GoogleApiError(400, "INVALID_ARGUMENT", message);
const unknownField = (name: string, at?: string): GoogleApiError =>
  invalidArgument(
    `Invalid JSON payload received. Unknown name "${name}"${at ? ` at '${at}'` : ""}: Cannot find field.`,
  );

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function tokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 24);
}

function base64UrlJson(segment: string): Json | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- token endpoint and metadata server

interface TokenStore {
  valid: Map<string, number>;
  lifetimeSeconds: number;
  issued: string[];
}

function issueToken(store: TokenStore): Json {
  const token = `ya29.fake-${randomBytes(24).toString("base64url")}`;
  store.valid.set(token, Date.now() + store.lifetimeSeconds * 1000);
  store.issued.push(token);
  return { access_token: token, expires_in: store.lifetimeSeconds, token_type: "Bearer" };
}

const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
const SUBJECT_TOKEN_TYPES = [
  "urn:ietf:params:oauth:token-type:jwt",
  "urn:ietf:params:oauth:token-type:id_token",
];

/**
 * Google STS `POST /v1/token` (RFC 8693 token exchange) for an OIDC workload identity pool
 * provider: the subject token must be an RS256 JWT from the provider's issuer, for an audience the
 * provider accepts, unexpired. The federated access token it returns is usable on Vertex directly.
 */
function handleTokenExchange(
  req: RecordedRequest,
  res: ServerResponse,
  pool: WorkloadIdentityPoolProvider | undefined,
  store: TokenStore,
): void {
  const oauthError = (status: number, error: string, description: string): void =>
    sendJson(res, status, { error, error_description: description });
  const form = new URLSearchParams(req.body);
  if (form.get("grant_type") !== TOKEN_EXCHANGE_GRANT)
    return oauthError(
      400,
      "invalid_request",
      `Invalid value for "grant_type": ${form.get("grant_type") ?? ""}`,
    );
  if (form.get("requested_token_type") !== ACCESS_TOKEN_TYPE)
    return oauthError(400, "invalid_request", 'Invalid value for "requested_token_type".');
  if (!SUBJECT_TOKEN_TYPES.includes(form.get("subject_token_type") ?? ""))
    return oauthError(400, "invalid_request", 'Invalid value for "subject_token_type".');
  if (!pool || form.get("audience") !== pool.audience) {
    return oauthError(
      400,
      "invalid_target",
      'The target service indicated by the "audience" parameters is invalid. This might either be because the pool or provider is disabled or deleted or because it doesn\'t exist.',
    );
  }
  if (!(form.get("scope") ?? "").split(" ").includes(CLOUD_PLATFORM_SCOPE))
    return oauthError(400, "invalid_scope", "Invalid OAuth scope.");
  const parts = (form.get("subject_token") ?? "").split(".");
  const claims = parts.length === 3 ? base64UrlJson(parts[1]!) : undefined;
  if (!claims) return oauthError(400, "invalid_grant", "Unable to parse the ID Token.");
  if (claims.iss !== pool.issuer) {
    return oauthError(
      400,
      "invalid_grant",
      `The issuer in ID Token ${String(claims.iss)} does not match the expected ones: ${pool.issuer}.`,
    );
  }
  const signed = verify(
    "RSA-SHA256",
    Buffer.from(`${parts[0]}.${parts[1]}`),
    pool.issuerPublicKey,
    Buffer.from(parts[2]!, "base64url"),
  );
  if (!signed) return oauthError(400, "invalid_grant", "Invalid ID Token signature.");
  const allowed = pool.allowedAudiences ?? [`https:${pool.audience}`];
  const audiences = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud)];
  if (!audiences.some((aud) => allowed.includes(aud))) {
    return oauthError(
      400,
      "invalid_grant",
      `The audience in ID Token [${audiences.join(", ")}] does not match the expected audience ${allowed.join(", ")}.`,
    );
  }
  if (!(Number(claims.exp) * 1000 > Date.now()))
    return oauthError(400, "invalid_grant", `ID Token expired at ${String(claims.exp)}.`);
  const { access_token, expires_in } = issueToken(store);
  sendJson(res, 200, {
    access_token,
    issued_token_type: ACCESS_TOKEN_TYPE,
    token_type: "Bearer",
    expires_in,
  });
}

function handleTokenGrant(
  req: RecordedRequest,
  res: ServerResponse,
  options: VertexFakeOptions,
  publicKey: KeyObject,
  store: TokenStore,
): void {
  const oauthError = (error: string, description: string): void =>
    sendJson(res, 400, { error, error_description: description });
  const form = new URLSearchParams(req.body);
  const grantType = form.get("grant_type");
  if (grantType !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
    return oauthError("unsupported_grant_type", `Invalid grant_type: ${grantType ?? ""}`);
  }
  const parts = (form.get("assertion") ?? "").split(".");
  if (parts.length !== 3) return oauthError("invalid_grant", "Invalid JWT: Malformed token.");
  const [encodedHeader, encodedClaims, signature] = parts as [string, string, string];
  const header = base64UrlJson(encodedHeader);
  const claims = base64UrlJson(encodedClaims);
  if (!header || !claims) return oauthError("invalid_grant", "Invalid JWT: Malformed token.");
  if (header.alg !== "RS256")
    return oauthError("invalid_grant", "Invalid JWT: Unsupported signature algorithm.");
  const signed = verify(
    "RSA-SHA256",
    Buffer.from(`${encodedHeader}.${encodedClaims}`),
    publicKey,
    Buffer.from(signature, "base64url"),
  );
  if (!signed) return oauthError("invalid_grant", "Invalid JWT Signature.");
  if (claims.iss !== options.serviceAccountEmail)
    return oauthError("invalid_grant", "Invalid grant: account not found");
  const now = Math.floor(Date.now() / 1000);
  const iat = Number(claims.iat);
  const exp = Number(claims.exp);
  if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp <= now || iat > now + 60 || exp - iat > 3600) {
    return oauthError(
      "invalid_grant",
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
    );
  }
  // The audience Google accepts is its own token URL, which google-auth-library always signs for.
  if (claims.aud !== GOOGLE_TOKEN_URL) return oauthError("invalid_grant", "Invalid JWT: Invalid audience.");
  const scopes = String(claims.scope ?? "").split(" ");
  if (!scopes.includes(CLOUD_PLATFORM_SCOPE))
    return oauthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.");
  sendJson(res, 200, issueToken(store));
}

function handleMetadata(
  req: RecordedRequest,
  res: ServerResponse,
  path: string,
  options: VertexFakeOptions,
  store: TokenStore,
): void {
  const flavor = { "metadata-flavor": "Google" };
  if (req.headers["metadata-flavor"] !== "Google") {
    res.writeHead(403, { "content-type": "text/html", ...flavor });
    res.end("Missing required header: Metadata-Flavor");
    return;
  }
  const text = (body: string): void => {
    res.writeHead(200, { "content-type": "application/text", ...flavor });
    res.end(body);
  };
  switch (path.replace(/\/+$/, "")) {
    case "/computeMetadata/v1/instance":
      return sendJson(res, 200, { id: 1, zone: `projects/1/zones/${options.region}-a` }, flavor);
    case "/computeMetadata/v1/project/project-id":
      return text(options.project);
    case "/computeMetadata/v1/instance/service-accounts/default/email":
      return text(options.serviceAccountEmail);
    case "/computeMetadata/v1/instance/service-accounts/default/token":
      return sendJson(res, 200, issueToken(store), flavor);
    default:
      res.writeHead(404, { "content-type": "text/html", ...flavor });
      res.end("Not Found");
  }
}

// ---------------------------------------------------------------- request validation

const REQUEST_FIELDS = [
  "contents",
  "systemInstruction",
  "tools",
  "toolConfig",
  "generationConfig",
  "safetySettings",
  "labels",
  "cachedContent",
  "modelArmorConfig",
];
const GENERATION_CONFIG_FIELDS = [
  "temperature",
  "topP",
  "topK",
  "candidateCount",
  "maxOutputTokens",
  "stopSequences",
  "responseLogprobs",
  "logprobs",
  "presencePenalty",
  "frequencyPenalty",
  "seed",
  "responseMimeType",
  "responseSchema",
  "responseJsonSchema",
  "routingConfig",
  "audioTimestamp",
  "responseModalities",
  "mediaResolution",
  "speechConfig",
  "thinkingConfig",
  "imageConfig",
];
const PART_FIELDS = [
  "text",
  "thought",
  "thoughtSignature",
  "inlineData",
  "fileData",
  "functionCall",
  "functionResponse",
  "executableCode",
  "codeExecutionResult",
  "videoMetadata",
];
/** The OpenAPI 3.0 subset Vertex's Schema message has. */
const SCHEMA_FIELDS = [
  "type",
  "format",
  "title",
  "description",
  "nullable",
  "default",
  "items",
  "minItems",
  "maxItems",
  "enum",
  "properties",
  "propertyOrdering",
  "required",
  "minProperties",
  "maxProperties",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "example",
  "anyOf",
];
const SCHEMA_TYPES = ["STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"];

/** Proto JSON accepts a field's lowerCamel name and its original snake_case name. */
function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function checkFields(value: Json, allowed: readonly string[], at?: string): void {
  for (const key of Object.keys(value)) if (!allowed.includes(camel(key))) throw unknownField(key, at);
}

function field<T = unknown>(value: Json, name: string): T | undefined {
  return (value[name] ?? value[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]) as T | undefined;
}

function checkSchema(schema: unknown, at: string): void {
  if (!isObject(schema))
    throw invalidArgument(`Invalid value at '${at}' (google.cloud.aiplatform.v1.Schema)`);
  checkFields(schema, SCHEMA_FIELDS, at);
  if (
    schema.type !== undefined &&
    (typeof schema.type !== "string" || !SCHEMA_TYPES.includes(schema.type.toUpperCase()))
  ) {
    throw invalidArgument(
      `Invalid value at '${at}.type' (type.googleapis.com/google.cloud.aiplatform.v1.Type), ${JSON.stringify(schema.type)}`,
    );
  }
  if (isObject(schema.properties)) {
    Object.values(schema.properties).forEach((value, i) =>
      checkSchema(value, `${at}.properties[${i}].value`),
    );
  }
  if (schema.items !== undefined) checkSchema(schema.items, `${at}.items`);
  if (Array.isArray(schema.anyOf))
    schema.anyOf.forEach((value, i) => checkSchema(value, `${at}.any_of[${i}]`));
}

const MISSING_PARTS =
  "Unable to submit request because it must include at least one parts field, which describes the prompt input. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini";

function validateGenerateContent(body: unknown): Json {
  if (!isObject(body)) throw invalidArgument("Invalid JSON payload received. Expected an object.");
  checkFields(body, REQUEST_FIELDS);
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0) throw invalidArgument(MISSING_PARTS);
  contents.forEach((content: unknown, i) => {
    if (!isObject(content)) throw invalidArgument(MISSING_PARTS);
    checkFields(content, ["role", "parts"], `contents[${i}]`);
    if (content.role !== "user" && content.role !== "model")
      throw invalidArgument("Please use a valid role: user, model.");
    if (!Array.isArray(content.parts) || content.parts.length === 0) throw invalidArgument(MISSING_PARTS);
    content.parts.forEach((part: unknown, j) => {
      const at = `contents[${i}].parts[${j}]`;
      if (!isObject(part)) throw invalidArgument(`Invalid value at '${at}'`);
      checkFields(part, PART_FIELDS, at);
      const call = field<Json>(part, "functionCall");
      if (call !== undefined && (typeof call.name !== "string" || call.name === "")) {
        throw invalidArgument(`Invalid value at '${at}.function_call': name is required.`);
      }
      const response = field<Json>(part, "functionResponse");
      if (response !== undefined && (typeof response.name !== "string" || !isObject(response.response))) {
        throw invalidArgument(`Invalid value at '${at}.function_response': name and response are required.`);
      }
    });
  });
  validateFunctionTurns(contents as Json[]);
  const system = field<Json>(body, "systemInstruction");
  if (system !== undefined && (!isObject(system) || !Array.isArray(system.parts))) {
    throw invalidArgument("Invalid value at 'system_instruction': parts are required.");
  }
  const tools = body.tools;
  if (tools !== undefined) {
    if (!Array.isArray(tools)) throw invalidArgument("Invalid value at 'tools'");
    tools.forEach((tool: unknown, i) => {
      if (!isObject(tool)) throw invalidArgument(`Invalid value at 'tools[${i}]'`);
      const declarations = field<unknown[]>(tool, "functionDeclarations") ?? [];
      declarations.forEach((declaration, j) => {
        const at = `tools[${i}].function_declarations[${j}]`;
        if (!isObject(declaration)) throw invalidArgument(`Invalid value at '${at}'`);
        checkFields(
          declaration,
          ["name", "description", "parameters", "parametersJsonSchema", "response"],
          at,
        );
        if (
          typeof declaration.name !== "string" ||
          !/^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/.test(declaration.name)
        ) {
          throw invalidArgument(
            `Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:) or dashes (-), with a maximum length of 128.`,
          );
        }
        if (declaration.parameters !== undefined) checkSchema(declaration.parameters, `${at}.parameters`);
      });
    });
  }
  const config = field<Json>(body, "generationConfig");
  if (config !== undefined) {
    if (!isObject(config)) throw invalidArgument("Invalid value at 'generation_config'");
    checkFields(config, GENERATION_CONFIG_FIELDS, "generation_config");
    const schema = field(config, "responseSchema");
    if (schema !== undefined) {
      checkSchema(schema, "generation_config.response_schema");
      if (field(config, "responseMimeType") !== "application/json") {
        throw invalidArgument("response_mime_type must be application/json when response_schema is set.");
      }
    }
    const temperature = config.temperature;
    if (
      temperature !== undefined &&
      (typeof temperature !== "number" || temperature < 0 || temperature > 2)
    ) {
      throw invalidArgument(
        "Unable to submit request because it has a temperature value outside the supported range of 0 to 2.",
      );
    }
  }
  return body;
}

/** Gemini's own checks on function-calling turns. */
function validateFunctionTurns(contents: Json[]): void {
  contents.forEach((content, i) => {
    const parts = content.parts as Json[];
    const calls = parts.filter((p) => field(p, "functionCall") !== undefined).length;
    const responses = parts.filter((p) => field(p, "functionResponse") !== undefined).length;
    const previous = contents[i - 1];
    const previousCalls = previous
      ? (previous.parts as Json[]).filter((p) => field(p, "functionCall") !== undefined).length
      : 0;
    if (responses > 0 && previousCalls === 0) {
      throw invalidArgument(
        "Please ensure that function response turn comes immediately after a function call turn.",
      );
    }
    if (previousCalls > 0 && responses !== previousCalls) {
      throw invalidArgument(
        "Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.",
      );
    }
    if (calls > 0 && previous && previous.role !== "user") {
      throw invalidArgument(
        "Please ensure that function call turn comes immediately after a user turn or after a function response turn.",
      );
    }
  });
}

// ---------------------------------------------------------------- Gemini answers

interface GeminiPlan {
  /** A thought summary, when the request asked for them. */
  thought?: string;
  parts: Json[];
  finishReason: string;
  outputTokens: number;
}

function lastUserTurn(body: Json): Json[] {
  const contents = body.contents as Json[];
  const last = [...contents].reverse().find((c) => c.role === "user");
  return (last?.parts as Json[] | undefined) ?? [];
}

function textOf(parts: Json[]): string {
  return parts
    .filter((p) => typeof p.text === "string" && !p.thought)
    .map((p) => String(p.text))
    .join(" ");
}

function sampleFor(schema: Json, echo: string): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  switch (String(schema.type ?? "").toUpperCase()) {
    case "OBJECT": {
      const properties = isObject(schema.properties) ? schema.properties : {};
      return Object.fromEntries(
        Object.entries(properties).map(([key, value]) => [
          key,
          sampleFor(isObject(value) ? value : {}, echo),
        ]),
      );
    }
    case "ARRAY":
      return [];
    case "NUMBER":
    case "INTEGER":
      return 0;
    case "BOOLEAN":
      return false;
    default:
      return echo;
  }
}

/**
 * Vertex pairs function responses with the calls of the model turn before them by position (its
 * calls carry no ids), so the answer names, for parallel calls, which call each result went to.
 */
function pairResults(body: Json, results: Json[]): string {
  const contents = body.contents as Json[];
  const callTurn = contents[contents.length - 2];
  const calls = ((callTurn?.parts as Json[] | undefined) ?? [])
    .map((p) => field<Json>(p, "functionCall"))
    .filter((c): c is Json => c !== undefined);
  return results
    .map((result, i) => {
      const response = JSON.stringify(result.response);
      return calls.length > 1 ? `${JSON.stringify(calls[i]?.args)} -> ${response}` : response;
    })
    .join("; ");
}

const hasCall = (content: Json): boolean =>
  (content.parts as Json[]).some((p) => field(p, "functionCall") !== undefined);

/** Where the current turn starts: the last user content that is not only function responses. */
function currentTurnStart(contents: Json[]): number {
  for (let i = contents.length - 1; i >= 0; i--) {
    const content = contents[i]!;
    if (
      content.role === "user" &&
      (content.parts as Json[]).some((p) => field(p, "functionResponse") === undefined)
    )
      return i;
  }
  return 0;
}

/** Thinking models (2.5 and later) sign their function calls. */
function signsCalls(model: string): boolean {
  return !model.startsWith("gemini-2.0");
}

/** Gemini 3 refuses a current turn whose steps lost their signatures. */
function enforcesSignatures(model: string): boolean {
  return model.startsWith("gemini-3");
}

/** The fake's signature of a call: checkable from the call alone, opaque to the gateway. */
function thoughtSignatureOf(call: Json): string {
  return createHash("sha256")
    .update(`vertex-fake-thought:${String(call.name)}:${JSON.stringify(call.args ?? {})}`)
    .digest("base64");
}

/** What Google documents for calls Gemini did not make: skips validation. */
const SKIP_SIGNATURE = ["skip_thought_signature_validator", "context_engineering_is_the_way_to_go"];

/** thought_signature is proto `bytes`: standard or URL-safe base64, padded or not. */
const BASE64 = /^(?:[A-Za-z0-9+/]|[A-Za-z0-9_-])*={0,2}$/;

function validateThoughtSignatures(contents: Json[], model: string): void {
  contents.forEach((content, i) =>
    (content.parts as Json[]).forEach((part, j) => {
      const signature = field(part, "thoughtSignature");
      if (signature !== undefined && (typeof signature !== "string" || !BASE64.test(signature))) {
        throw invalidArgument(
          `Invalid value at 'contents[${i}].parts[${j}].thought_signature' (TYPE_BYTES), Base64 decoding failed for ${JSON.stringify(signature)}`,
        );
      }
    }),
  );
  if (!enforcesSignatures(model)) return;
  // Only the current turn's steps are checked, and in each step its first function call.
  contents.slice(currentTurnStart(contents) + 1).forEach((content, offset) => {
    if (content.role !== "model" || !hasCall(content)) return;
    const parts = content.parts as Json[];
    const first = parts.find((p) => field(p, "functionCall") !== undefined)!;
    const call = field<Json>(first, "functionCall")!;
    const signature = field<string>(first, "thoughtSignature");
    const index = currentTurnStart(contents) + 1 + offset;
    if (signature === undefined) {
      throw invalidArgument(
        `Function call \`${String(call.name)}\` in the \`${index}.\` content block is missing a \`thought_signature\`. Learn more: https://docs.cloud.google.com/vertex-ai/generative-ai/docs/thought-signatures`,
      );
    }
    if (!SKIP_SIGNATURE.includes(signature) && signature !== thoughtSignatureOf(call)) {
      throw invalidArgument(`Corrupted thought signature in the \`${index}.\` content block.`);
    }
  });
}

/** Thinking as the request configures it: a thought summary first when includeThoughts is set. */
function withThoughts(body: Json, model: string, plan: GeminiPlan): GeminiPlan {
  const thinking = field<Json>(field<Json>(body, "generationConfig") ?? {}, "thinkingConfig");
  if (!thinking) return plan;
  if (field(thinking, "thinkingLevel") !== undefined && !model.startsWith("gemini-3"))
    throw invalidArgument("Thinking level is not supported for this model.");
  if (field(thinking, "thinkingBudget") === 0 && (model.startsWith("gemini-3") || model === "gemini-2.5-pro"))
    throw invalidArgument("Budget 0 is invalid. This model only works in thinking mode.");
  if (!field(thinking, "includeThoughts") || plan.finishReason === "SAFETY") return plan;
  return { ...plan, thought: `**Thinking** about ${textOf(lastUserTurn(body)) || "the function results"}` };
}

function planGemini(body: Json, model: string): GeminiPlan {
  return withThoughts(body, model, planVisibleGemini(body, model));
}

function planVisibleGemini(body: Json, model: string): GeminiPlan {
  const userParts = lastUserTurn(body);
  const text = textOf(userParts);
  if (text.includes("TRIGGER_CONTENT_FILTER")) return { parts: [], finishReason: "SAFETY", outputTokens: 0 };

  const results = userParts
    .map((p) => field<Json>(p, "functionResponse"))
    .filter((r): r is Json => r !== undefined);
  const declarations = ((body.tools as Json[] | undefined) ?? []).flatMap(
    (t) => field<Json[]>(t, "functionDeclarations") ?? [],
  );
  const callingConfig = field<Json>(field<Json>(body, "toolConfig") ?? {}, "functionCallingConfig") ?? {};
  const mode = String(callingConfig.mode ?? "AUTO");
  const allowed = field<string[]>(callingConfig, "allowedFunctionNames");
  const contents = body.contents as Json[];
  const start = currentTurnStart(contents);
  const prompt = textOf(contents[start]!.parts as Json[]);
  // "in Paris and London" asks for parallel calls, one per city, in that order; with "at a
  // time" in the prompt, one call per step instead, each after the previous one's result.
  const cities = (/\bin ([A-Z][A-Za-z -]*?)(?:[?.!,]|$)/.exec(prompt)?.[1] ?? "Paris").split(" and ");
  const stepsDone = contents.slice(start + 1).filter(hasCall).length;
  const sequential = /\bat a time\b/i.test(prompt);
  if (
    declarations.length > 0 &&
    mode !== "NONE" &&
    (results.length === 0 || (sequential && stepsDone < cities.length)) &&
    (mode === "ANY" || /weather/i.test(prompt))
  ) {
    const name = allowed?.[0] ?? String(declarations[0]!.name);
    const parts: Json[] = (sequential ? [cities[stepsDone]!] : cities).map((city) => ({
      functionCall: { name, args: { city } },
    }));
    if (signsCalls(model)) parts[0]!.thoughtSignature = thoughtSignatureOf(parts[0]!.functionCall as Json);
    return { parts, finishReason: "STOP", outputTokens: tokens(JSON.stringify(parts)) };
  }

  const config = field<Json>(body, "generationConfig") ?? {};
  const schema = field<Json>(config, "responseSchema");
  const echo = results.length > 0 ? `Tool result: ${pairResults(body, results)}` : `You said: ${text}`;
  let answer =
    field(config, "responseMimeType") === "application/json"
      ? JSON.stringify(schema ? sampleFor(schema, echo) : { answer: echo })
      : echo;
  let finishReason = "STOP";
  for (const sequence of field<string[]>(config, "stopSequences") ?? []) {
    const at = answer.indexOf(sequence);
    if (sequence !== "" && at !== -1) {
      answer = answer.slice(0, at);
      break;
    }
  }
  const max = field<number>(config, "maxOutputTokens");
  if (max !== undefined && tokens(answer) > max) {
    answer = answer.slice(0, max * 4);
    finishReason = "MAX_TOKENS";
  }
  return { parts: [{ text: answer }], finishReason, outputTokens: tokens(answer) };
}

function promptTokens(body: Json): number {
  return Math.max(
    1,
    tokens(
      JSON.stringify([
        body.systemInstruction ?? body.system_instruction ?? "",
        body.tools ?? [],
        body.contents,
      ]),
    ),
  );
}

const SAFETY_RATINGS = [
  { category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH", blocked: true },
  { category: "HARM_CATEGORY_HARASSMENT", probability: "NEGLIGIBLE" },
];

function candidate(parts: Json[], finishReason: string | undefined): Json {
  const out: Json = {};
  if (parts.length > 0) out.content = { role: "model", parts };
  if (finishReason) out.finishReason = finishReason;
  if (finishReason === "SAFETY") out.safetyRatings = SAFETY_RATINGS;
  return out;
}

function textChunks(text: string): string[] {
  const words = text.match(/\S+\s*|\s+/g) ?? [text];
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += 2) chunks.push(words.slice(i, i + 2).join(""));
  return chunks.length > 0 ? chunks : [""];
}

function respondGenerate(
  res: ServerResponse,
  body: Json,
  model: string,
  stream: "none" | "sse" | "json-array",
): void {
  const plan = planGemini(body, model);
  const prompt = promptTokens(body);
  const responseId = `fake${shortHash(JSON.stringify(body))}`;
  const meta = { modelVersion: `${model}-001`, createTime: "2025-10-01T00:00:00.000000Z", responseId };
  const thoughts = plan.thought === undefined ? undefined : tokens(plan.thought);
  const usage = (output: number | undefined): Json => ({
    promptTokenCount: prompt,
    ...(output !== undefined ? { candidatesTokenCount: output } : {}),
    ...(thoughts !== undefined ? { thoughtsTokenCount: thoughts } : {}),
    totalTokenCount: prompt + (output ?? 0) + (thoughts ?? 0),
    trafficType: "ON_DEMAND",
  });
  const final = plan.finishReason === "SAFETY" ? undefined : plan.outputTokens;

  if (stream === "none") {
    const parts =
      plan.thought === undefined ? plan.parts : [{ text: plan.thought, thought: true }, ...plan.parts];
    return sendJson(res, 200, {
      candidates: [candidate(parts, plan.finishReason)],
      usageMetadata: usage(final),
      ...meta,
    });
  }

  const events: Json[] = [];
  if (plan.thought !== undefined)
    events.push({
      candidates: [candidate([{ text: plan.thought, thought: true }], undefined)],
      usageMetadata: { trafficType: "ON_DEMAND" },
      ...meta,
    });
  const text = plan.parts[0]?.text;
  if (typeof text === "string") {
    const chunks = textChunks(text);
    chunks.forEach((chunk, i) => {
      const last = i === chunks.length - 1;
      events.push({
        candidates: [candidate([{ text: chunk }], last ? plan.finishReason : undefined)],
        usageMetadata: last ? usage(final) : { trafficType: "ON_DEMAND" },
        ...meta,
      });
    });
  } else {
    events.push({
      candidates: [candidate(plan.parts, plan.finishReason)],
      usageMetadata: usage(final),
      ...meta,
    });
  }
  const midStreamError = textOf(lastUserTurn(body)).includes("TRIGGER_STREAM_ERROR");
  const error = { error: { code: 500, message: "Internal error encountered.", status: "INTERNAL" } };

  if (stream === "sse") {
    res.writeHead(200, { "content-type": "text/event-stream", "x-content-type-options": "nosniff" });
    if (!midStreamError) {
      for (const event of events) res.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
      res.end();
      return;
    }
    // Vertex aborts an SSE stream by writing the error as pretty-printed JSON outside SSE framing,
    // which arrives as its own network chunk (as @google/genai expects it to).
    res.write(`data: ${JSON.stringify(events[0])}\r\n\r\n`);
    setTimeout(() => res.end(`${JSON.stringify(error, null, 2)}\n`), 20);
    return;
  }
  // Vertex's default for streamGenerateContent: one JSON array, written element by element.
  res.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
  const sent = midStreamError ? [events[0]!, error] : events;
  res.write("[");
  sent.forEach((event, i) => res.write(`${i > 0 ? ",\r\n" : ""}${JSON.stringify(event)}`));
  res.end("]");
}

// ---------------------------------------------------------------- embeddings

function embeddingVector(text: string, dimensions: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block++) {
    const digest = createHash("sha256").update(`${text}\u0000${block}`).digest();
    for (let i = 0; i + 1 < digest.length && values.length < dimensions; i += 2)
      values.push(digest.readUInt16BE(i) / 32767.5 - 1);
  }
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0)) || 1;
  return values.map((v) => v / norm);
}

function respondPredict(res: ServerResponse, body: unknown, model: string): void {
  if (!isObject(body) || !Array.isArray(body.instances) || body.instances.length === 0) {
    throw invalidArgument("Invalid JSON payload received. The instances field is required.");
  }
  const instances = body.instances as unknown[];
  const limit = model.startsWith("gemini-embedding") ? 1 : 250;
  if (instances.length > limit) {
    throw invalidArgument(
      `Unable to submit request because the model ${model} supports only ${limit} instance${limit === 1 ? "" : "s"} per request. You sent ${instances.length}.`,
    );
  }
  const parameters = isObject(body.parameters) ? body.parameters : {};
  const requested = parameters.outputDimensionality ?? parameters.output_dimensionality;
  const fullSize = model.startsWith("gemini-embedding") ? 3072 : 768;
  if (
    requested !== undefined &&
    (!Number.isInteger(requested) || (requested as number) < 1 || (requested as number) > fullSize)
  ) {
    throw invalidArgument(
      `Unsupported output dimensionality ${String(requested)}: it must be between 1 and ${fullSize}.`,
    );
  }
  const dimensions = (requested as number | undefined) ?? fullSize;
  const predictions = instances.map((instance, i) => {
    if (!isObject(instance) || typeof instance.content !== "string") {
      throw invalidArgument(`Invalid value at 'instances[${i}]': content is required.`);
    }
    if (instance.content.includes("TRIGGER_RATE_LIMIT")) throw rateLimited();
    return {
      embeddings: {
        values: embeddingVector(instance.content, dimensions),
        statistics: { truncated: false, token_count: tokens(instance.content) },
      },
    };
  });
  const billable = instances.reduce<number>(
    (sum, instance) => sum + String((instance as Json).content).length,
    0,
  );
  sendJson(res, 200, { predictions, metadata: { billableCharacterCount: billable } });
}

function rateLimited(): GoogleApiError {
  return new GoogleApiError(
    429,
    "RESOURCE_EXHAUSTED",
    "Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
    [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "7s" }],
  );
}

// ---------------------------------------------------------------- Vertex routing

const MODEL_PATH =
  /^\/(v1|v1beta1)\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/([^/]+)\/models\/([^/:]+):([A-Za-z]+)$/;

/** Google publisher models the fake serves; others get Vertex's 404 for unknown publisher models. */
export const VERTEX_FAKE_GEMINI_MODELS = [
  "gemini-2.0-flash-001",
  "gemini-2.5-flash",
  "gemini-2.5-flash-lite",
  "gemini-2.5-pro",
  "gemini-3-pro-preview",
];
export const VERTEX_FAKE_EMBEDDING_MODELS = [
  "text-embedding-005",
  "text-multilingual-embedding-002",
  "gemini-embedding-001",
];

function isGeminiChat(model: string): boolean {
  return VERTEX_FAKE_GEMINI_MODELS.includes(model);
}

function isEmbeddingModel(model: string): boolean {
  return VERTEX_FAKE_EMBEDDING_MODELS.includes(model);
}

function handleGoogleModel(
  req: RecordedRequest,
  res: ServerResponse,
  model: string,
  method: string,
  query: URLSearchParams,
): void {
  const body = req.json;
  if (method === "countTokens") {
    if (!isObject(body) || (!Array.isArray(body.contents) && !Array.isArray(body.instances)))
      throw invalidArgument(MISSING_PARTS);
    const total = tokens(JSON.stringify(body.contents ?? body.instances));
    return sendJson(res, 200, { totalTokens: total, totalBillableCharacters: total * 4 });
  }
  if (method === "predict") {
    if (!isEmbeddingModel(model))
      throw invalidArgument(`Model ${model} does not support predict; use generateContent.`);
    return respondPredict(res, body, model);
  }
  if (method !== "generateContent" && method !== "streamGenerateContent") {
    throw new GoogleApiError(404, "NOT_FOUND", `Method ${method} is not found for publisher model ${model}.`);
  }
  if (!isGeminiChat(model)) throw invalidArgument(`Model ${model} does not support ${method}.`);
  const request = validateGenerateContent(body);
  validateThoughtSignatures(request.contents as Json[], model);
  const text = textOf(lastUserTurn(request));
  if (text.includes("TRIGGER_CONTEXT_LENGTH")) {
    throw invalidArgument(
      "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).",
    );
  }
  if (text.includes("TRIGGER_RATE_LIMIT")) throw rateLimited();
  const stream = method === "generateContent" ? "none" : query.get("alt") === "sse" ? "sse" : "json-array";
  respondGenerate(res, request, model, stream);
}

function handleAnthropicModel(
  req: RecordedRequest,
  res: ServerResponse,
  model: string,
  method: string,
): void {
  if (model === "count-tokens" && method === "rawPredict") {
    const body = req.json;
    if (!isObject(body) || typeof body.model !== "string" || !Array.isArray(body.messages)) {
      return sendJson(res, 400, {
        type: "error",
        error: { type: "invalid_request_error", message: "model and messages: Field required" },
      });
    }
    return sendJson(res, 200, { input_tokens: tokens(JSON.stringify(body.messages)) });
  }
  if (!model.startsWith("claude-")) {
    throw new GoogleApiError(
      404,
      "NOT_FOUND",
      `Publisher Model \`publishers/anthropic/models/${model}\` not found.`,
    );
  }
  if (method !== "rawPredict" && method !== "streamRawPredict") {
    throw new GoogleApiError(404, "NOT_FOUND", `Method ${method} is not found for publisher model ${model}.`);
  }
  const sent = isObject(req.json) ? req.json.anthropic_version : undefined;
  const anthropicVersion = ACCEPTED_ANTHROPIC_VERSIONS.find((v) => v === sent) ?? VERTEX_ANTHROPIC_VERSION;
  handleAnthropicMessages(req, res, { vertex: { model, anthropicVersion } });
}

function bearer(req: RecordedRequest): string | undefined {
  const value = req.headers.authorization;
  const header = Array.isArray(value) ? value[0] : value;
  return header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined;
}

function checkAccessToken(req: RecordedRequest, store: TokenStore): void {
  const token = bearer(req);
  const see =
    "Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
  if (!token)
    throw new GoogleApiError(
      401,
      "UNAUTHENTICATED",
      `Request is missing required authentication credential. ${see}`,
    );
  const expiry = store.valid.get(token);
  if (expiry === undefined || expiry < Date.now()) {
    throw new GoogleApiError(
      401,
      "UNAUTHENTICATED",
      `Request had invalid authentication credentials. ${see}`,
    );
  }
}

export async function startVertexFake(options: VertexFakeOptions): Promise<VertexFake> {
  const publicKey =
    typeof options.serviceAccountPublicKey === "string"
      ? createPublicKey(options.serviceAccountPublicKey)
      : options.serviceAccountPublicKey;
  const store: TokenStore = {
    valid: new Map(),
    lifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    issued: [],
  };

  // A separate host, as in production, so faults injected for model calls never hit token requests.
  const auth = await startFakeServer((req, res) => {
    const url = new URL(req.url, "http://fake");
    if (req.method === "POST" && url.pathname === "/token")
      return handleTokenGrant(req, res, options, publicKey, store);
    if (req.method === "POST" && url.pathname === "/v1/token")
      return handleTokenExchange(req, res, options.workloadIdentityPool, store);
    if (req.method === "GET" && url.pathname.startsWith("/computeMetadata/"))
      return handleMetadata(req, res, url.pathname, options, store);
    sendJson(res, 404, { error: "not_found", error_description: `${url.pathname} is not served here` });
  });

  const server = await startFakeServer((req, res) => {
    const url = new URL(req.url, "http://fake");
    try {
      const match = MODEL_PATH.exec(url.pathname);
      if (!match || req.method !== "POST") {
        throw new GoogleApiError(
          404,
          "NOT_FOUND",
          `The requested URL ${url.pathname} was not found on this server.`,
        );
      }
      checkAccessToken(req, store);
      const [, , project, location, publisher, rawModel, method] = match as unknown as [
        string,
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      const model = decodeURIComponent(rawModel);
      const resource = `projects/${project}/locations/${location}/publishers/${publisher}/models/${model}`;
      if (decodeURIComponent(project) !== options.project) {
        throw new GoogleApiError(
          403,
          "PERMISSION_DENIED",
          `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`,
        );
      }
      if (decodeURIComponent(location) !== options.region) {
        throw invalidArgument(
          `Location ${location} is not served by the ${options.region}-aiplatform.googleapis.com endpoint.`,
        );
      }
      if (publisher === "google") {
        if (!isGeminiChat(model) && !isEmbeddingModel(model)) {
          throw new GoogleApiError(
            404,
            "NOT_FOUND",
            `Publisher Model \`${resource}\` was not found or your project does not have access to it. Please ensure you are using a valid model version. For more information, see: https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions`,
          );
        }
        return handleGoogleModel(req, res, model, method, url.searchParams);
      }
      if (publisher === "anthropic") return handleAnthropicModel(req, res, model, method);
      throw new GoogleApiError(404, "NOT_FOUND", `Publisher Model \`${resource}\` not found.`);
    } catch (err) {
      if (err instanceof GoogleApiError) return sendGoogleError(res, err);
      throw err;
    }
  });

  return {
    ...server,
    tokenUrl: `${auth.url}/token`,
    metadataHost: auth.url.replace(/^http:\/\//, ""),
    stsTokenUrl: `${auth.url}/v1/token`,
    issuedTokens: store.issued,
    authRequests: auth.requests,
    revokeTokens: () => store.valid.clear(),
    close: async () => {
      await Promise.all([server.close(), auth.close()]);
    },
  };
}
