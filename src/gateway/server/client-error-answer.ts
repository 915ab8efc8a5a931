import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { GatewayError } from "../../shared/errors.js";
import { renderOpenAiError } from "../ingress/openai/openai-error.js";
import type { RequestLimits } from "./request-limits.js";

/** What Node's HTTP parser refused, as the gateway's own error. */
function describe(code: string | undefined, limits: RequestLimits): GatewayError {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return new GatewayError(
        "request_too_large",
        "the request headers are larger than this gateway accepts",
      );
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new GatewayError(
        "request_timeout",
        `the request did not arrive in time (headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms)`,
      );
    default:
      return new GatewayError(
        "invalid_request",
        `the request is not valid HTTP/1.1 (${code ?? "parse error"})`,
      );
  }
}

/**
 * Answers a connection whose request Node could not take (bad framing, oversized headers, too
 * slow) with the gateway's error body and closes it. The URL may not be known yet, so the body
 * is OpenAI's shape, which Anthropic's SDKs also read a message from.
 */
export function answerClientError(
  err: Error & { code?: string },
  socket: Socket,
  limits: RequestLimits,
): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const rendered = renderOpenAiError(describe(err.code, limits));
  const body = JSON.stringify(rendered.body);
  socket.end(
    `HTTP/1.1 ${rendered.status} ${STATUS_CODES[rendered.status]}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
