import type { ChatResponse, FinishReason, ReasoningPart, ToolCall, Usage } from "../../canonical/chat.js";
import type { ResponseMeta } from "../chat-ingress-format.js";
import { switchboardExtension } from "../openai/encode-openai-chat-response.js";
import { toolCallIdForClient } from "../tool-call-id-carrier.js";
import { encryptedContentOf } from "./reasoning-items.js";

/** The Response object and its output items, shared by the whole answer and the stream's events. */

export type OutputItem = Record<string, unknown> & { type: string; id: string };

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

const hexOf = (requestId: string) => requestId.replace(/^[A-Za-z]+[-_]/, "");

/** Item ids carry the hex of the gateway's request id, so logs still match. */
export function itemId(prefix: "msg" | "fc" | "rs", meta: ResponseMeta, index: number): string {
  return `${prefix}_${hexOf(meta.id)}${index === 0 ? "" : `_${index}`}`;
}

export function encodeResponsesUsage(usage: Usage): Record<string, unknown> {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: {
      cached_tokens: usage.cacheReadTokens ?? 0,
      ...(usage.cacheWriteTokens !== undefined ? { cache_write_tokens: usage.cacheWriteTokens } : {}),
    },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

/** A finished answer's status: cut short by the output limit or a filter is `incomplete`. */
export function statusOf(finishReason: FinishReason): {
  status: ResponseStatus;
  incomplete_details: { reason: string } | null;
} {
  switch (finishReason) {
    case "length":
      return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
    case "content_filter":
      return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
    default:
      return { status: "completed", incomplete_details: null };
  }
}

export function reasoningItem(part: ReasoningPart, id: string): OutputItem {
  const text = part.type === "thinking" ? part.text : "";
  const encrypted = encryptedContentOf(part);
  return {
    type: "reasoning",
    id,
    summary: text ? [{ type: "summary_text", text }] : [],
    ...(encrypted ? { encrypted_content: encrypted } : {}),
    status: "completed",
  };
}

export function outputText(text: string): Record<string, unknown> {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

export function messageItem(id: string, text: string, status: "in_progress" | "completed"): OutputItem {
  return {
    type: "message",
    id,
    status,
    role: "assistant",
    content: status === "completed" ? [outputText(text)] : [],
  };
}

export function functionCallItem(
  id: string,
  call: Pick<ToolCall, "id" | "name" | "signature">,
  args: string,
  status: "in_progress" | "completed",
): OutputItem {
  // The call's own signature (Gemini) rides in call_id; the turn's reasoning has items of its own.
  return {
    type: "function_call",
    id,
    call_id: toolCallIdForClient(call),
    name: call.name,
    arguments: args,
    status,
  };
}

export interface ResponseState {
  status: ResponseStatus;
  output: OutputItem[];
  incomplete_details?: { reason: string } | null;
  error?: { code: string; message: string } | null;
  usage?: Usage;
  rawFinishReason?: string;
}

export function responseObject(meta: ResponseMeta, state: ResponseState): Record<string, unknown> {
  const done = state.status !== "in_progress";
  return {
    id: `resp_${hexOf(meta.id)}`,
    object: "response",
    created_at: meta.created,
    status: state.status,
    background: false,
    error: state.error ?? null,
    incomplete_details: state.incomplete_details ?? null,
    model: meta.model,
    output: state.output,
    previous_response_id: null,
    service_tier: "default",
    store: false,
    truncation: "disabled",
    ...meta.echo,
    usage: state.usage ? encodeResponsesUsage(state.usage) : null,
    ...(done ? { switchboard: switchboardExtension(state.rawFinishReason ?? "error", state.usage) } : {}),
  };
}

export function encodeResponsesResponse(response: ChatResponse, meta: ResponseMeta): Record<string, unknown> {
  const output: OutputItem[] = (response.reasoning ?? []).map((part, i) =>
    reasoningItem(part, itemId("rs", meta, i)),
  );
  if (response.content !== "" || response.toolCalls.length === 0)
    output.push(messageItem(itemId("msg", meta, 0), response.content, "completed"));
  response.toolCalls.forEach((call, i) =>
    output.push(functionCallItem(itemId("fc", meta, i), call, call.arguments, "completed")),
  );
  return responseObject(meta, {
    ...statusOf(response.finishReason),
    output,
    usage: response.usage,
    rawFinishReason: response.rawFinishReason,
  });
}
