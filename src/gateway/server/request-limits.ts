import { GatewayError } from "../../shared/errors.js";

/**
 * What the gateway accepts from a client before doing any work that grows with the input, and how
 * long it waits for a slow client. Every limit is a CLI option of `switchboard gateway`
 * (docs/limits.md lists them).
 */
export interface RequestLimits {
  /** Largest request body, in bytes. */
  bodyBytes: number;
  /** Deepest nesting of arrays and objects in a JSON body (the body itself is level 1). */
  jsonDepth: number;
  /** Most values (array elements and object members, nested ones included) in a JSON body. */
  jsonValues: number;
  /** The request line and headers must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this; a response may take longer. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  bodyBytes: 8 * 1024 * 1024,
  // Tool and response-format JSON Schemas nest a few levels per level of their data; 64 leaves room.
  jsonDepth: 64,
  // A 10,000-message conversation with tool calls stays well under; parsing this many takes ~50 ms.
  jsonValues: 200_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  // Longer than the 60 s idle timeout of common load balancers, so they never reuse a closed socket.
  keepAliveTimeoutMs: 72_000,
};

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Refuses a JSON text that nests too deep or holds too many values, in one pass over the text and
 * before JSON.parse: parsing 8 MB of nested arrays blocks the event loop for seconds and grows the
 * heap by hundreds of MiB, and deep values later overflow the stack of recursive code.
 * Hand-written because no JSON library bounds both before building values.
 */
export function checkJsonShape(text: string, limits: Pick<RequestLimits, "jsonDepth" | "jsonValues">): void {
  let depth = 0;
  let values = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limits.jsonDepth) {
        throw new GatewayError(
          "invalid_request",
          `the request body nests JSON deeper than ${limits.jsonDepth} levels; flatten the deepest value (e.g. a tool's parameters schema)`,
        );
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
    else if (c === COMMA && ++values > limits.jsonValues) {
      throw new GatewayError(
        "request_too_large",
        `the request body holds more than ${limits.jsonValues} JSON values; send fewer messages, inputs or array elements`,
      );
    }
  }
}
