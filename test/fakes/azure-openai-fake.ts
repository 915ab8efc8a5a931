import type { ServerResponse } from "node:http";
import {
  sendJson,
  startFakeServer,
  writeSse,
  type FakeServer,
  type RecordedRequest,
} from "./fake-http-server.js";
import {
  lastUserText,
  planChat,
  REASONING_MODEL,
  reasoningEffortError,
  renderCompletion,
  renderEmbeddings,
  renderStreamChunks,
  startSse,
  toolHistoryError,
  TRIGGER_CONTENT_FILTER,
  TRIGGER_CONTEXT_LENGTH,
  TRIGGER_RATE_LIMIT,
  TRIGGER_STREAM_ERROR,
  type WireChatRequest,
  type WireEmbeddingRequest,
  type WireError,
} from "./openai-fake.js";

/**
 * Azure OpenAI's data plane: `POST /openai/deployments/{deployment}/chat/completions|embeddings`
 * and `GET /openai/models`, all with a required `api-version` query parameter (missing or unknown
 * → 404 "Resource not found", as Azure answers). Auth by `api-key` header or an Entra ID
 * `Authorization: Bearer` token. Shares the deterministic answers and trigger words of the OpenAI
 * fake; Azure specifics:
 * - TRIGGER_CONTENT_FILTER → 400 code "content_filter" with `innererror.content_filter_result`
 *   (the prompt filter); TRIGGER_COMPLETION_FILTER → 200 with finish_reason "content_filter";
 * - TRIGGER_RATE_LIMIT → 429 with `retry-after` and `retry-after-ms`;
 * - unknown deployment → 404 DeploymentNotFound;
 * - `prompt_filter_results` / `content_filter_results` on responses, and a first stream chunk
 *   with empty id/model and `choices: []` carrying the prompt filter results;
 * - what each api-version accepts: `stream_options` from 2024-08-01-preview / GA 2024-10-21,
 *   `max_completion_tokens` from 2024-09-01-preview (no GA version), reasoning deployments
 *   (o1, o3, o4-mini, gpt-5...) from 2024-12-01-preview and only with `max_completion_tokens`.
 */

export const TRIGGER_COMPLETION_FILTER = "TRIGGER_COMPLETION_FILTER";

export interface AzureOpenAiFakeOptions {
  apiKey: string;
  /** Deployment name → model it serves (e.g. `{ "chat": "gpt-4o-2024-08-06" }`). */
  deployments: Record<string, string>;
  /** Accepted Entra ID bearer token, or a check for one. */
  bearerToken?: string | ((token: string) => boolean);
}

const API_VERSIONS = new Set([
  "2023-05-15",
  "2024-02-01",
  "2024-06-01",
  "2024-10-21",
  "2024-08-01-preview",
  "2024-09-01-preview",
  "2024-10-01-preview",
  "2024-12-01-preview",
  "2025-01-01-preview",
  "2025-03-01-preview",
  "2025-04-01-preview",
]);

function versionFeatures(version: string): {
  streamOptions: boolean;
  maxCompletionTokens: boolean;
  reasoning: boolean;
} {
  const date = version.slice(0, 10);
  const preview = version.endsWith("-preview");
  return {
    streamOptions: preview ? date >= "2024-08-01" : date >= "2024-10-21",
    maxCompletionTokens: preview && date >= "2024-09-01",
    reasoning: preview && date >= "2024-12-01",
  };
}

const SAFE = { filtered: false, severity: "safe" };
const PROMPT_RESULTS = {
  hate: SAFE,
  jailbreak: { filtered: false, detected: false },
  self_harm: SAFE,
  sexual: SAFE,
  violence: SAFE,
};
const COMPLETION_RESULTS = { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE };
const FILTERED_COMPLETION = { ...COMPLETION_RESULTS, violence: { filtered: true, severity: "medium" } };

function azureError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): WireError {
  return { status, body: { error: { code, message } }, headers };
}

function openAiStyleError(
  status: number,
  message: string,
  param: string | null,
  code: string | null,
): WireError {
  return { status, body: { error: { message, type: "invalid_request_error", param, code } } };
}

const RESOURCE_NOT_FOUND = azureError(404, "404", "Resource not found");

export async function startAzureOpenAiFake(options: AzureOpenAiFakeOptions): Promise<FakeServer> {
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}fakeAzure${String(++counter).padStart(6, "0")}`;

  function authError(req: RecordedRequest): WireError | undefined {
    const key = req.headers["api-key"];
    if (typeof key === "string") {
      return key === options.apiKey
        ? undefined
        : azureError(
            401,
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
          );
    }
    const token = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ""))?.[1];
    const accepted =
      token !== undefined &&
      (typeof options.bearerToken === "function"
        ? options.bearerToken(token)
        : options.bearerToken === token);
    if (accepted) return undefined;
    if (token !== undefined) {
      return azureError(
        401,
        "401",
        "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.",
      );
    }
    return azureError(
      401,
      "401",
      "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
    );
  }

  function chatError(body: WireChatRequest, model: string, apiVersion: string): WireError | undefined {
    const features = versionFeatures(apiVersion);
    if (/embedding/.test(model)) {
      return azureError(
        400,
        "OperationNotSupported",
        `The chatCompletion operation does not work with the specified model, ${model}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.`,
      );
    }
    if (REASONING_MODEL.test(model) && !features.reasoning) {
      return azureError(
        400,
        "BadRequest",
        `Model ${model} is enabled only for api versions 2024-12-01-preview and later`,
      );
    }
    if (body.stream_options !== undefined && !features.streamOptions) {
      return openAiStyleError(400, "Unrecognized request argument supplied: stream_options", null, null);
    }
    if (body.max_completion_tokens !== undefined && !features.maxCompletionTokens) {
      return openAiStyleError(
        400,
        "Unrecognized request argument supplied: max_completion_tokens",
        null,
        null,
      );
    }
    if (body.max_tokens !== undefined && REASONING_MODEL.test(model)) {
      return openAiStyleError(
        400,
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        "max_tokens",
        "unsupported_parameter",
      );
    }
    const effort = reasoningEffortError(body, model);
    if (effort) return openAiStyleError(400, effort.message, "reasoning_effort", effort.code);
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return openAiStyleError(400, "[] is too short - 'messages'", "messages", null);
    }
    const history = toolHistoryError(body.messages);
    if (history) return openAiStyleError(400, history.message, history.param, null);
    const userText = lastUserText(body.messages);
    if (userText.includes(TRIGGER_CONTEXT_LENGTH)) {
      return openAiStyleError(
        400,
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
        "messages",
        "context_length_exceeded",
      );
    }
    if (userText.includes(TRIGGER_CONTENT_FILTER)) {
      return {
        status: 400,
        body: {
          error: {
            message:
              "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
            type: null,
            param: "prompt",
            code: "content_filter",
            status: 400,
            innererror: {
              code: "ResponsibleAIPolicyViolation",
              content_filter_result: { ...PROMPT_RESULTS, violence: { filtered: true, severity: "medium" } },
            },
          },
        },
      };
    }
    if (userText.includes(TRIGGER_RATE_LIMIT)) return rateLimited("ChatCompletions_Create", apiVersion);
    return undefined;
  }

  function rateLimited(operation: string, apiVersion: string): WireError {
    return azureError(
      429,
      "429",
      `Requests to the ${operation} Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
      {
        "retry-after": "6",
        "retry-after-ms": "5283",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-remaining-tokens": "0",
      },
    );
  }

  async function chat(
    req: RecordedRequest,
    res: ServerResponse,
    model: string,
    apiVersion: string,
  ): Promise<void> {
    const body = (req.json ?? {}) as WireChatRequest;
    const problem = chatError(body, model, apiVersion);
    if (problem) return sendJson(res, problem.status, problem.body, problem.headers);
    const plan = planChat(body, nextId, model);
    const filtered = plan.kind === "text" && plan.finishReason === "content_filter";
    const ctx = {
      id: nextId("chatcmpl-"),
      model,
      created: Math.floor(Date.now() / 1000),
      style: "azure" as const,
      topExtras: {
        system_fingerprint: "fp_fake",
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: PROMPT_RESULTS }],
      },
    };
    if (!body.stream) {
      return sendJson(
        res,
        200,
        renderCompletion(plan, {
          ...ctx,
          choiceExtras: { content_filter_results: filtered ? FILTERED_COMPLETION : COMPLETION_RESULTS },
        }),
        {
          "apim-request-id": ctx.id,
        },
      );
    }
    startSse(res, { "apim-request-id": ctx.id });
    // Azure first sends the prompt filter results in a chunk of its own.
    writeSse(res, {
      choices: [],
      created: 0,
      id: "",
      model: "",
      object: "",
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: PROMPT_RESULTS }],
    });
    const chunks = renderStreamChunks(
      plan,
      {
        ...ctx,
        topExtras: undefined,
        choiceExtras: { content_filter_results: COMPLETION_RESULTS },
        finishExtras: { content_filter_results: filtered ? FILTERED_COMPLETION : {} },
      },
      body.stream_options?.include_usage === true,
    );
    if (lastUserText(body.messages ?? []).includes(TRIGGER_STREAM_ERROR)) {
      for (const chunk of chunks.slice(0, 2)) writeSse(res, chunk);
      writeSse(res, {
        error: {
          message:
            "The server had an error processing your request. Sorry about that! You can retry your request, or contact us through an Azure support request at: https://go.microsoft.com/fwlink/?linkid=2213926 if you keep seeing this error.",
          type: "server_error",
          param: null,
          code: null,
        },
      });
      return void res.end();
    }
    for (const chunk of chunks) {
      writeSse(res, chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    writeSse(res, "[DONE]");
    res.end();
  }

  function embeddings(req: RecordedRequest, res: ServerResponse, model: string, apiVersion: string): void {
    const body = (req.json ?? {}) as WireEmbeddingRequest;
    if (!/embedding/.test(model)) {
      const e = azureError(
        400,
        "OperationNotSupported",
        `The embeddings operation does not work with the specified model, ${model}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.`,
      );
      return sendJson(res, e.status, e.body);
    }
    const inputs =
      typeof body.input === "string" ? [body.input] : Array.isArray(body.input) ? body.input : [];
    if (inputs.some((i) => typeof i === "string" && i.includes(TRIGGER_RATE_LIMIT))) {
      const e = rateLimited("Embeddings_Create", apiVersion);
      return sendJson(res, e.status, e.body, e.headers);
    }
    const result = renderEmbeddings(body, model);
    if ("invalid" in result) {
      const e = openAiStyleError(400, result.invalid.message, result.invalid.param, null);
      return sendJson(res, e.status, e.body);
    }
    sendJson(res, 200, result.ok);
  }

  function models(res: ServerResponse): void {
    const ids = [...new Set(Object.values(options.deployments))];
    sendJson(res, 200, {
      object: "list",
      data: ids.map((id) => ({
        id,
        object: "model",
        status: "succeeded",
        created_at: 1_715_367_049,
        lifecycle_status: "generally-available",
        capabilities: {
          fine_tune: false,
          inference: true,
          completion: false,
          chat_completion: !/embedding/.test(id),
          embeddings: /embedding/.test(id),
        },
        deprecation: { inference: 1_767_225_600 },
      })),
    });
  }

  return startFakeServer(async (req, res) => {
    const url = new URL(req.url, "http://fake");
    const apiVersion = url.searchParams.get("api-version");
    const deploymentRoute = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(
      url.pathname,
    );
    const isModels = req.method === "GET" && url.pathname === "/openai/models";
    if ((!deploymentRoute || req.method !== "POST") && !isModels)
      return sendJson(res, 404, RESOURCE_NOT_FOUND.body);
    if (!apiVersion || !API_VERSIONS.has(apiVersion)) return sendJson(res, 404, RESOURCE_NOT_FOUND.body);
    const denied = authError(req);
    if (denied) return sendJson(res, denied.status, denied.body);
    if (isModels) return models(res);
    const deployment = decodeURIComponent(deploymentRoute![1]!);
    const model = options.deployments[deployment];
    if (!model) {
      const e = azureError(
        404,
        "DeploymentNotFound",
        "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
      );
      return sendJson(res, e.status, e.body);
    }
    if (deploymentRoute![2] === "embeddings") return embeddings(req, res, model, apiVersion);
    return chat(req, res, model, apiVersion);
  });
}
