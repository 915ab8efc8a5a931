import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordedRequest } from "./fake-http-server.js";

/**
 * A Microsoft Entra ID token endpoint for the workload identity flow: MSAL reads the tenant's
 * OpenID configuration, then POSTs `grant_type=client_credentials` with the federated Kubernetes
 * token as `client_assertion` and gets an access token for the requested scope. @azure/identity
 * refuses non-https authority hosts, so this fake serves TLS with a throwaway self-signed
 * certificate made by the `openssl` CLI; clients trust it through `caCert`.
 */

export interface IssuedToken {
  token: string;
  scope: string;
  expiresOn: number;
}

export interface EntraTokenFake {
  /** Authority host, e.g. https://127.0.0.1:PORT */
  url: string;
  /** PEM of the self-signed certificate, to pass as `tlsOptions.ca`. */
  caCert: string;
  /** Token requests received (form bodies). */
  tokenRequests: RecordedRequest[];
  issued: IssuedToken[];
  /** True when `token` was issued here for `scope` and has not expired. */
  isValid(token: string, scope: string): boolean;
  close(): Promise<void>;
}

export interface EntraTokenFakeOptions {
  tenantId: string;
  clientId: string;
  /** The projected service-account token the credential must present as client_assertion. */
  federatedToken: string;
  expiresInSeconds?: number;
}

function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "entra-fake-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "pipe" },
    );
    return {
      key: readFileSync(join(dir, "key.pem"), "utf8"),
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function base64Url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function sendEntraError(
  res: ServerResponse,
  status: number,
  error: string,
  description: string,
  code: number,
): void {
  const body = JSON.stringify({
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: 00000000-0000-0000-0000-000000000000 Correlation ID: 00000000-0000-0000-0000-000000000000 Timestamp: 2025-01-01 00:00:00Z`,
    error_codes: [code],
    timestamp: "2025-01-01 00:00:00Z",
    trace_id: "00000000-0000-0000-0000-000000000000",
    correlation_id: "00000000-0000-0000-0000-000000000000",
  });
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(body);
}

export async function startEntraTokenFake(options: EntraTokenFakeOptions): Promise<EntraTokenFake> {
  const { key, cert } = selfSignedCertificate();
  const tokenRequests: RecordedRequest[] = [];
  const issued: IssuedToken[] = [];
  const sockets = new Set<Socket>();
  let url = "";
  const tenantPath = `/${options.tenantId}`;

  const server = createServer({ key, cert }, async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const path = (req.url ?? "/").split("?")[0]!;

    if (req.method === "GET" && path === `${tenantPath}/v2.0/.well-known/openid-configuration`) {
      const text = JSON.stringify({
        token_endpoint: `${url}${tenantPath}/oauth2/v2.0/token`,
        authorization_endpoint: `${url}${tenantPath}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${url}${tenantPath}/oauth2/v2.0/logout`,
        jwks_uri: `${url}${tenantPath}/discovery/v2.0/keys`,
        issuer: `${url}/${options.tenantId}/v2.0`,
        token_endpoint_auth_methods_supported: [
          "client_secret_post",
          "private_key_jwt",
          "client_secret_basic",
        ],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        tenant_region_scope: "EU",
      });
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
      return void res.end(text);
    }
    if (req.method !== "POST" || !path.endsWith("/oauth2/v2.0/token")) {
      res.writeHead(404);
      return void res.end();
    }
    tokenRequests.push({ method: req.method, url: req.url ?? "/", headers: req.headers, body });
    if (path !== `${tenantPath}/oauth2/v2.0/token`) {
      return sendEntraError(res, 400, "invalid_request", `Tenant '${path.split("/")[1]}' not found.`, 90002);
    }
    const form = new URLSearchParams(body);
    if (form.get("grant_type") !== "client_credentials") {
      return sendEntraError(
        res,
        400,
        "unsupported_grant_type",
        "The provided value for the input parameter 'grant_type' is not valid.",
        70003,
      );
    }
    if (form.get("client_id") !== options.clientId) {
      return sendEntraError(
        res,
        400,
        "unauthorized_client",
        `Application with identifier '${form.get("client_id")}' was not found in the directory '${options.tenantId}'.`,
        700016,
      );
    }
    if (form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
      return sendEntraError(
        res,
        401,
        "invalid_client",
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        7000218,
      );
    }
    if (form.get("client_assertion") !== options.federatedToken) {
      return sendEntraError(
        res,
        401,
        "invalid_client",
        "No matching federated identity record found for presented assertion.",
        700211,
      );
    }
    const scope = form.get("scope") ?? "";
    if (!scope.split(" ").some((s) => s.endsWith("/.default"))) {
      return sendEntraError(
        res,
        400,
        "invalid_scope",
        `The provided value for the input parameter 'scope' is not valid.`,
        1002012,
      );
    }
    const expiresIn = options.expiresInSeconds ?? 3599;
    const now = Math.floor(Date.now() / 1000);
    const audience = scope.split(" ")[0]!.replace(/\/\.default$/, "");
    const token = [
      base64Url({ typ: "JWT", alg: "RS256", kid: "fake" }),
      base64Url({
        aud: audience,
        iss: `https://sts.windows.net/${options.tenantId}/`,
        appid: options.clientId,
        tid: options.tenantId,
        iat: now,
        exp: now + expiresIn,
        jti: issued.length,
      }),
      "ZmFrZS1zaWduYXR1cmU",
    ].join(".");
    issued.push({ token, scope, expiresOn: (now + expiresIn) * 1000 });
    const text = JSON.stringify({
      token_type: "Bearer",
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: token,
    });
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    res.end(text);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    caCert: cert,
    tokenRequests,
    issued,
    isValid: (token, scope) =>
      issued.some((i) => i.token === token && i.scope.split(" ").includes(scope) && i.expiresOn > Date.now()),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
