import pino, { type DestinationStream, type Logger } from "pino";
import { redactSecrets } from "./redact.js";

/**
 * One JSON logger for every process. Every line passes the shared redaction on its way out (known
 * credential values and key-shaped tokens, wherever in the line), and credential-bearing fields are
 * censored by path; code never logs configs or headers in the first place.
 */
export function createLogger(
  name: string,
  options: {
    level?: string;
    destination?: DestinationStream;
    /**
     * Write stdout asynchronously, many lines per write (flushed at exit): the gateway's access log
     * otherwise makes one blocking write per request.
     */
    buffered?: boolean;
  } = {},
): Logger {
  return pino(
    {
      name,
      level: options.level ?? process.env.LOG_LEVEL ?? "info",
      base: { component: name },
      redact: {
        paths: [
          "apiKey",
          "*.apiKey",
          "*.*.apiKey",
          "authorization",
          "*.authorization",
          "headers.authorization",
          "headers['x-api-key']",
          "headers['api-key']",
          "credentials",
          "*.credentials",
        ],
        censor: "[REDACTED]",
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: (line) => redactSecrets(line) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: !options.buffered }),
  );
}

export type { Logger };
