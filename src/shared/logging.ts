import pino, { type DestinationStream, type Logger } from "pino";

/**
 * One JSON logger for every process. Credential-bearing fields are censored by path as a second
 * line of defence; code never logs configs or headers in the first place.
 */
export function createLogger(
  name: string,
  options: { level?: string; destination?: DestinationStream } = {},
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
    },
    options.destination ?? pino.destination(1),
  );
}

export type { Logger };
