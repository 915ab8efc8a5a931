import type { ReasoningPart, ReasoningSignature } from "../../canonical/chat.js";

/**
 * The Responses API has its own slot for reasoning state a client must send back: a reasoning
 * item's `encrypted_content`. The gateway puts the upstream's signature there (Claude's thinking
 * signature, redacted thinking) as `sb1.<base64url JSON [kind, origin, value]>`, and takes it
 * back from input items. Content it did not write (OpenAI's own encryption) identifies nothing
 * an upstream behind this gateway could check, so it is dropped.
 */

const MARK = "sb1.";

type Carried = ["t" | "r", origin: string, value: string];

export function encryptedContentOf(part: ReasoningPart): string | undefined {
  const carried: Carried | undefined =
    part.type === "redacted"
      ? ["r", part.data.origin, part.data.value]
      : part.signature
        ? ["t", part.signature.origin, part.signature.value]
        : undefined;
  return carried && `${MARK}${Buffer.from(JSON.stringify(carried)).toString("base64url")}`;
}

function readCarried(encrypted: string | null | undefined): Carried | undefined {
  if (!encrypted?.startsWith(MARK)) return undefined;
  try {
    const value: unknown = JSON.parse(
      Buffer.from(encrypted.slice(MARK.length), "base64url").toString("utf8"),
    );
    return Array.isArray(value) &&
      (value[0] === "t" || value[0] === "r") &&
      typeof value[1] === "string" &&
      typeof value[2] === "string"
      ? (value as Carried)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A reasoning input item → the canonical part it stands for. */
export function reasoningPartOf(text: string, encrypted: string | null | undefined): ReasoningPart {
  const carried = readCarried(encrypted);
  if (carried?.[0] === "r") return { type: "redacted", data: { origin: carried[1], value: carried[2] } };
  const signature: ReasoningSignature | undefined = carried && { origin: carried[1], value: carried[2] };
  return { type: "thinking", text, ...(signature ? { signature } : {}) };
}
