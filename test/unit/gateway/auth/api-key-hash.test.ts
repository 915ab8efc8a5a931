import { describe, expect, it } from "vitest";
import { digestsEqual } from "../../../../src/gateway/auth/api-key-hash.js";
import { sha256Hex } from "../../../../src/shared/digest.js";
import { presentedCredential } from "../../../../src/gateway/auth/client-credential.js";

describe("API key hashing", () => {
  it("hashes keys with sha256 (hex), as `sha256:<hex>` Secret values are written", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("compares digests exactly and rejects malformed ones", () => {
    const digest = sha256Hex("sk-team-a");
    expect(digestsEqual(digest, sha256Hex("sk-team-a"))).toBe(true);
    expect(digestsEqual(digest, sha256Hex("sk-team-b"))).toBe(false);
    expect(digestsEqual(digest, digest.slice(0, 62))).toBe(false);
    expect(digestsEqual("not-hex", "not-hex")).toBe(false);
  });
});

describe("presentedCredential", () => {
  it("reads a Bearer token, whatever the scheme's case", () => {
    expect(presentedCredential({ authorization: "Bearer sk-1" }, false)).toBe("sk-1");
    expect(presentedCredential({ authorization: "bearer sk-1" }, false)).toBe("sk-1");
    expect(presentedCredential({ authorization: "Basic dXNlcjpwYXNz" }, false)).toBeUndefined();
  });

  it("reads x-api-key only where the Anthropic Messages API is served", () => {
    expect(presentedCredential({ "x-api-key": "sk-2" }, true)).toBe("sk-2");
    expect(presentedCredential({ "x-api-key": "sk-2" }, false)).toBeUndefined();
    expect(presentedCredential({ authorization: "Bearer sk-1", "x-api-key": "sk-2" }, true)).toBe("sk-1");
  });
});
