import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { GatewayError, isGatewayError } from "../../shared/errors.js";
import type { ChatIngressFormat, RenderedError } from "../ingress/chat-ingress-format.js";
import { openAiChatFormat } from "../ingress/openai/openai-chat-format.js";
import { renderOpenAiError } from "../ingress/openai/openai-error.js";
import { anthropicMessagesFormat } from "../ingress/anthropic/anthropic-messages-format.js";
import { responsesFormat } from "../ingress/responses/responses-format.js";
import { handleChat, type JsonReply } from "./chat-handler.js";
import { handleEmbeddings } from "./embeddings-handler.js";
import { handleCompletions } from "./completions-handler.js";
import { handleCountTokens } from "./count-tokens-handler.js";
import { listModels } from "./models-handler.js";
import type { GatewayDeps } from "./request-context.js";
import { presentedCredential } from "../auth/client-credential.js";
import type { ShutdownDrain } from "./shutdown-drain.js";
import { checkJsonShape, DEFAULT_REQUEST_LIMITS, type RequestLimits } from "./request-limits.js";
import { answerClientError } from "./client-error-answer.js";
import { markArrival } from "./request-outcome.js";

export interface GatewayServerOptions {
  /** Body size, JSON shape and slow-client limits; defaults for those not set. */
  limits?: Partial<RequestLimits>;
  /** While it drains: not ready, and every response closes its connection. */
  drain?: ShutdownDrain;
  /**
   * Also serve `GET /metrics` here, next to the client API (the admin listener always does).
   * Off by default: anyone who may call a model could read every route, consumer and cost figure.
   */
  publicMetrics?: boolean;
}

function send(reply: FastifyReply, rendered: RenderedError | JsonReply): FastifyReply {
  return reply.code(rendered.status).headers(rendered.headers).type("application/json").send(rendered.body);
}

function formatForUrl(url: string): ChatIngressFormat {
  return url.startsWith("/v1/messages") ? anthropicMessagesFormat : openAiChatFormat;
}

/** Client mistakes fastify detects before our handlers run, rendered in the caller's API format. */
function frameworkError(
  err: { code?: string; statusCode?: number; message: string },
  bodyLimit: number,
): GatewayError {
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new GatewayError(
        "request_too_large",
        `the request body is larger than the ${bodyLimit} bytes this gateway accepts`,
      );
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new GatewayError("invalid_request", "the request body is empty; send a JSON object");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new GatewayError("invalid_request", `the request body is not valid JSON: ${err.message}`);
    case "FST_ERR_BAD_URL":
      return new GatewayError("invalid_request", "the request URL is not valid (a malformed %-escape?)");
    default:
      if (err.statusCode && err.statusCode < 500) return new GatewayError("invalid_request", err.message);
      return new GatewayError("internal", "the gateway failed to handle the request");
  }
}

export function createGatewayServer(deps: GatewayDeps, options: GatewayServerOptions = {}): FastifyInstance {
  const limits: RequestLimits = { ...DEFAULT_REQUEST_LIMITS, ...options.limits };
  const bodyLimit = limits.bodyBytes;
  const app = Fastify({
    bodyLimit,
    logger: false,
    return503OnClosing: true,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the header and request deadlines on this interval (30 s by default), so a
    // slow client would otherwise hold its connection up to that much longer.
    http: { connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs) },
    // Malformed URLs and HTTP the parser refuses get the gateway's error body, not fastify's.
    frameworkErrors: (err, request, reply) =>
      send(reply, formatForUrl(request.url).renderError(frameworkError(err, bodyLimit))),
    clientErrorHandler: (err, socket) => answerClientError(err, socket, limits),
  });
  app.server.headersTimeout = limits.headersTimeoutMs;

  const drain = options.drain;
  // A callback hook, not an async one: no promise per request.
  app.addHook("onRequest", (_request, reply, done) => {
    markArrival(reply.raw);
    if (drain?.draining) reply.header("connection", "close");
    done();
  });

  // Parse any content type as JSON: curl's default form type must not turn a valid body into a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === "")
      return done(
        Object.assign(new Error("empty body"), { code: "FST_ERR_CTP_EMPTY_JSON_BODY", statusCode: 400 }),
      );
    try {
      checkJsonShape(text, limits);
    } catch (err) {
      return done(err as GatewayError);
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(
        Object.assign(new Error((err as Error).message), {
          code: "FST_ERR_CTP_INVALID_JSON_BODY",
          statusCode: 400,
        }),
      );
    }
  });

  app.setErrorHandler((err: { code?: string; statusCode?: number; message: string }, request, reply) => {
    const error = isGatewayError(err) ? err : frameworkError(err, bodyLimit);
    if (error.errorClass === "internal") deps.logger.error({ err }, "unhandled server error");
    return send(reply, formatForUrl(request.url).renderError(error));
  });

  app.setNotFoundHandler((request, reply) =>
    send(
      reply,
      formatForUrl(request.url).renderError(
        new GatewayError(
          "not_found",
          `${request.method} ${request.url.split("?")[0]} is not an endpoint of this gateway`,
        ),
      ),
    ),
  );

  // Per response, not per socket: keep-alive sockets serve many requests.
  const clientSignal = (reply: FastifyReply): AbortSignal => {
    const controller = new AbortController();
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished)
        controller.abort(new GatewayError("timeout", "the client disconnected"));
    });
    return controller.signal;
  };

  type StreamingHandler = (
    body: unknown,
    res: FastifyReply["raw"],
    signal: AbortSignal,
    headers: FastifyRequest["headers"],
  ) => Promise<JsonReply | undefined>;
  /** A handler that answers in JSON, or streams to the raw response itself (then fastify lets go). */
  const streamingRoute =
    (handler: StreamingHandler) => async (request: FastifyRequest, reply: FastifyReply) => {
      const result = await handler(request.body, reply.raw, clientSignal(reply), request.headers);
      if (result) return send(reply, result);
      reply.hijack();
      return reply;
    };
  const chatRoute = (format: ChatIngressFormat, api: string) =>
    streamingRoute((body, res, signal, headers) => handleChat(deps, format, api, body, res, signal, headers));

  app.post("/v1/chat/completions", chatRoute(openAiChatFormat, "chat.completions"));
  app.post("/v1/messages", chatRoute(anthropicMessagesFormat, "messages"));
  app.post("/v1/responses", chatRoute(responsesFormat, "responses"));
  app.post(
    "/v1/completions",
    streamingRoute((body, res, signal, headers) => handleCompletions(deps, body, res, signal, headers)),
  );
  app.post("/v1/messages/count_tokens", async (request, reply) =>
    send(reply, await handleCountTokens(deps, request.body, clientSignal(reply), request.headers)),
  );
  app.post("/v1/embeddings", async (request, reply) =>
    send(reply, await handleEmbeddings(deps, request.body, reply.raw, clientSignal(reply), request.headers)),
  );
  // Only the routes the caller may use: open ones, and those listing the caller as a consumer.
  app.get("/v1/models", async (request, reply) => {
    const runtime = deps.store.current;
    if (!runtime) return reply.send(listModels(runtime));
    try {
      const identity = await deps.traffic.auth.identify(
        runtime.config,
        presentedCredential(request.headers, true),
      );
      const routes = runtime.config.routes.filter((route) => deps.traffic.auth.mayUse(route, identity));
      return reply.send(listModels({ ...runtime, config: { ...runtime.config, routes } }));
    } catch (err) {
      if (!isGatewayError(err)) throw err;
      return send(reply, renderOpenAiError(err));
    }
  });

  app.get("/healthz", async (_request, reply) => reply.send({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    if (drain?.draining) {
      return send(
        reply,
        renderOpenAiError(new GatewayError("upstream_unavailable", "the gateway is shutting down")),
      );
    }
    const runtime = deps.store.current;
    if (!runtime) {
      return send(
        reply,
        renderOpenAiError(
          new GatewayError(
            "upstream_unavailable",
            deps.store.lastError ?? "no valid configuration loaded yet",
          ),
        ),
      );
    }
    return reply.send({ status: "ready", configVersion: runtime.config.version });
  });
  if (options.publicMetrics) {
    app.get("/metrics", async (_request, reply) =>
      reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
    );
  }
  return app;
}
