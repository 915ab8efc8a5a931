import type { OpenAiRequestOptions } from "../openai/convert-to-openai-request.js";

/**
 * The newest generally available dated api-version of the Azure OpenAI inference API (used when
 * spec.apiVersion is absent). Newer features (reasoning models, `max_completion_tokens`) need a
 * preview version such as 2025-04-01-preview, set through spec.apiVersion.
 */
export const DEFAULT_AZURE_API_VERSION = "2024-10-21";

/**
 * What an api-version's chat/completions accepts: `stream_options` arrived in 2024-08-01-preview
 * and GA 2024-10-21; `max_completion_tokens` in 2024-09-01-preview and is absent from every GA
 * version up to 2024-10-21, which only know `max_tokens`. Versions that are not dated
 * (`latest`, `preview`) are the newest surface.
 */
export function azureRequestOptions(
  apiVersion: string,
): Pick<OpenAiRequestOptions, "maxTokensField" | "streamUsage"> {
  const match = /^(\d{4}-\d{2}-\d{2})(-preview)?$/.exec(apiVersion);
  if (!match) return { maxTokensField: "max_completion_tokens", streamUsage: true };
  const date = match[1]!;
  const preview = match[2] !== undefined;
  return {
    streamUsage: preview ? date >= "2024-08-01" : date >= "2024-10-21",
    maxTokensField: (preview ? date >= "2024-09-01" : date > "2024-10-21")
      ? "max_completion_tokens"
      : "max_tokens",
  };
}
