import type { GatewayConfig } from "./schemas/gateway-config.js";

/** Fields of a JSON credential (service-account key, AWS key pair) whose values are secret. */
const SECRET_FIELD = /secret|private_?key|token|password|api_?key/i;
const NOT_SECRET_FIELD = /ur[il]$/i;

function jsonSecretFields(value: string): string[] | undefined {
  if (!value.trimStart().startsWith("{")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== "object") return undefined;
  return Object.entries(parsed as Record<string, unknown>)
    .filter(
      ([field, v]) => typeof v === "string" && SECRET_FIELD.test(field) && !NOT_SECRET_FIELD.test(field),
    )
    .map(([, v]) => v as string);
}

/**
 * Every credential value a compiled config holds, for the redaction of everything the process
 * shows. A JSON credential contributes its secret fields, not the whole document: its other
 * fields (an e-mail, a token URL) are ordinary text that would otherwise be masked everywhere.
 */
export function credentialValues(config: GatewayConfig): string[] {
  const values: string[] = [];
  for (const provider of config.providers) {
    if (provider.credentials.mode !== "apiKey") continue;
    const key = provider.credentials.apiKey;
    values.push(...(jsonSecretFields(key) ?? [key]));
  }
  return values;
}
