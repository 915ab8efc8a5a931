import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { credentialValues } from "../../../src/shared/credential-values.js";
import { createLogger } from "../../../src/shared/logging.js";
import {
  redactSecrets,
  redactedExcerpt,
  registerSecrets,
  unregisterSecrets,
} from "../../../src/shared/redact.js";
import type { GatewayConfig } from "../../../src/shared/schemas/gateway-config.js";

const KEY = "Zq7Xw2Vb9Ns4Lm1Kd8Hf3Gj6Tp0Ry5Ue";
const owner = {};

afterEach(() => unregisterSecrets(owner));

describe("redactSecrets", () => {
  it("masks any 8 or more characters in a row of a known secret, wherever the text was cut", () => {
    expect(redactSecrets(`cut: ${KEY.slice(0, 9)}`, [KEY])).toBe("cut: [REDACTED]");
    expect(redactSecrets(`${KEY.slice(20)} was the end`, [KEY])).toBe("[REDACTED] was the end");
    expect(redactSecrets(`a${KEY}b`, [KEY])).toBe("a[REDACTED]b");
    expect(redactSecrets(`only ${KEY.slice(0, 7)}`, [KEY])).toBe(`only ${KEY.slice(0, 7)}`);
  });

  it("knows what the config in force registered, until it is unregistered", () => {
    registerSecrets(owner, [KEY]);
    expect(redactSecrets(`upstream said ${KEY.slice(3, 15)}`)).toBe("upstream said [REDACTED]");
    unregisterSecrets(owner);
    expect(redactSecrets(`upstream said ${KEY.slice(3, 15)}`)).toContain(KEY.slice(3, 15));
  });

  it("masks a secret in its JSON-escaped form and the body of a PEM key line by line", () => {
    const pem = `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nq7Xw2Vb9Ns4Lm1Kd8Hf3Gj6Tp0Ry5Ue\n-----END PRIVATE KEY-----\n`;
    const quoted = 'pass"wo\\rd-with-quotes';
    const shown = redactSecrets(JSON.stringify({ pem, quoted }), [pem, quoted]);
    expect(shown).not.toMatch(/MIIEvQIB|q7Xw2Vb9|wo\\\\rd-with/);
    expect(shown).toContain("BEGIN PRIVATE KEY");
  });

  it("redacts before it cuts, so the cut cannot leave a piece of a key", () => {
    const text = `${"k".repeat(290)}${KEY}`;
    expect(redactedExcerpt(text, 300, [KEY])).toBe(`${"k".repeat(290)}[REDACTED]`);
  });

  it.each([
    ["an sk- key glued to a word", `token_sk-ant-api03-${KEY}`],
    ["an AWS key id glued to a word", "idAKIAIOSFODNN7EXAMPLE"],
    ["a JWT", `x=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJnYXRld2F5In0.${KEY}`],
    ["a Google access token", `tokya29.${KEY}`],
  ])("masks %s nobody registered", (_what, text) => {
    expect(redactSecrets(text)).toContain("[REDACTED]");
  });

  it("leaves ordinary words that contain sk- alone", () => {
    expect(redactSecrets("see task-management-system and desk-reservations")).toBe(
      "see task-management-system and desk-reservations",
    );
  });
});

describe("credentialValues", () => {
  it("takes API keys whole and only the secret fields of JSON credentials", () => {
    const provider = (apiKey: string) => ({ credentials: { mode: "apiKey", apiKey } });
    const config = {
      providers: [
        provider(KEY),
        provider(
          JSON.stringify({
            type: "service_account",
            client_email: "gw@project.iam.gserviceaccount.com",
            private_key: "-----BEGIN PRIVATE KEY-----\nabc\n",
            private_key_id: "0123456789abcdef",
            token_uri: "https://oauth2.googleapis.com/token",
          }),
        ),
        provider(
          JSON.stringify({ accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "s3cr3t/key+value" }),
        ),
        { credentials: { mode: "none" } },
      ],
    } as unknown as GatewayConfig;
    expect(credentialValues(config).sort()).toEqual(
      [KEY, "-----BEGIN PRIVATE KEY-----\nabc\n", "0123456789abcdef", "s3cr3t/key+value"].sort(),
    );
  });
});

describe("createLogger", () => {
  it("redacts every line it writes, in any field, with what the config registered", () => {
    registerSecrets(owner, [KEY]);
    const lines: string[] = [];
    const logger = createLogger("t", {
      destination: new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    });
    logger.info({ error: `upstream: ${KEY.slice(0, 12)}`, nested: { deep: [KEY] } }, `msg ${KEY}`);
    logger.error({ err: new Error(`boom ${KEY}`) }, "failed");
    expect(lines.join("")).not.toContain(KEY.slice(0, 8));
    expect(lines).toHaveLength(2);
  });
});
