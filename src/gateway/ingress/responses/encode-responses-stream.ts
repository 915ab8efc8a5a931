import type { ChatStreamEvent, FinishReason, ReasoningSignature, Usage } from "../../canonical/chat.js";
import type { GatewayError } from "../../../shared/errors.js";
import type { ResponseMeta } from "../chat-ingress-format.js";
import { openAiErrorPayload } from "../openai/openai-error.js";
import {
  functionCallItem,
  itemId,
  messageItem,
  outputText,
  reasoningItem,
  responseObject,
  statusOf,
  type OutputItem,
  type ResponseState,
} from "./encode-responses-response.js";

type Open =
  | { kind: "message"; index: number; id: string; text: string }
  | { kind: "reasoning"; index: number; id: string; text: string }
  | {
      kind: "call";
      index: number;
      id: string;
      call: { id: string; name: string; signature?: ReasoningSignature };
      args: string;
    };

/**
 * Canonical events → the Responses API's typed events, each numbered by `sequence_number`:
 * response.created and response.in_progress first; each output item added, its parts and deltas,
 * then done; response.completed (or response.incomplete) last, carrying the whole response.
 * One stream's state outlives the generator so that an error after the first byte can still end
 * the stream with response.failed naming what was already sent.
 */
class ResponsesStream {
  private sequence = 0;
  private readonly state: ResponseState = { status: "in_progress", output: [] };
  private open: Open[] = [];
  private calls = 0;
  private reasonings = 0;
  private messages = 0;

  constructor(private readonly meta: ResponseMeta) {}

  frame(type: string, payload: Record<string, unknown> = {}): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...payload })}\n\n`;
  }

  private response(): Record<string, unknown> {
    return responseObject(this.meta, this.state);
  }

  start(): string[] {
    return [
      this.frame("response.created", { response: this.response() }),
      this.frame("response.in_progress", { response: this.response() }),
    ];
  }

  private add(item: OutputItem): string {
    this.state.output.push(item);
    return this.frame("response.output_item.added", { output_index: this.state.output.length - 1, item });
  }

  private finishItem(index: number, item: OutputItem): string {
    this.state.output[index] = item;
    return this.frame("response.output_item.done", { output_index: index, item });
  }

  /** Closes open items: all of them, or those of other kinds than the one about to continue. */
  closeOpen(keep?: Open["kind"]): string[] {
    const frames: string[] = [];
    const still: Open[] = [];
    for (const item of this.open) {
      if (item.kind === keep) {
        still.push(item);
        continue;
      }
      frames.push(...this.close(item));
    }
    this.open = still;
    return frames;
  }

  private close(item: Open, signature?: ReasoningSignature): string[] {
    const at = { item_id: item.id, output_index: item.index };
    switch (item.kind) {
      case "message": {
        const part = outputText(item.text);
        return [
          this.frame("response.output_text.done", { ...at, content_index: 0, text: item.text, logprobs: [] }),
          this.frame("response.content_part.done", { ...at, content_index: 0, part }),
          this.finishItem(item.index, messageItem(item.id, item.text, "completed")),
        ];
      }
      case "reasoning": {
        const part = { type: "summary_text", text: item.text };
        const done = reasoningItem(
          { type: "thinking", text: item.text, ...(signature ? { signature } : {}) },
          item.id,
        );
        return [
          ...(item.text
            ? [
                this.frame("response.reasoning_summary_text.done", {
                  ...at,
                  summary_index: 0,
                  text: item.text,
                }),
                this.frame("response.reasoning_summary_part.done", { ...at, summary_index: 0, part }),
              ]
            : []),
          this.finishItem(item.index, done),
        ];
      }
      case "call":
        return [
          this.frame("response.function_call_arguments.done", {
            ...at,
            name: item.call.name,
            arguments: item.args,
          }),
          this.finishItem(item.index, functionCallItem(item.id, item.call, item.args, "completed")),
        ];
    }
  }

  private current<K extends Open["kind"]>(kind: K): Extract<Open, { kind: K }> | undefined {
    return this.open.find((o): o is Extract<Open, { kind: K }> => o.kind === kind);
  }

  text(delta: string): string[] {
    const frames = this.closeOpen("message");
    let message = this.current("message");
    if (!message) {
      const id = itemId("msg", this.meta, this.messages++);
      message = { kind: "message", index: this.state.output.length, id, text: "" };
      this.open.push(message);
      frames.push(
        this.add(messageItem(id, "", "in_progress")),
        this.frame("response.content_part.added", {
          item_id: id,
          output_index: message.index,
          content_index: 0,
          part: outputText(""),
        }),
      );
    }
    message.text += delta;
    frames.push(
      this.frame("response.output_text.delta", {
        item_id: message.id,
        output_index: message.index,
        content_index: 0,
        delta,
        logprobs: [],
      }),
    );
    return frames;
  }

  private openReasoning(): { frames: string[]; item: Extract<Open, { kind: "reasoning" }> } {
    const frames = this.closeOpen("reasoning");
    let item = this.current("reasoning");
    if (!item) {
      const id = itemId("rs", this.meta, this.reasonings++);
      item = { kind: "reasoning", index: this.state.output.length, id, text: "" };
      this.open.push(item);
      frames.push(this.add({ type: "reasoning", id, summary: [], status: "in_progress" }));
    }
    return { frames, item };
  }

  reasoning(delta: string): string[] {
    const { frames, item } = this.openReasoning();
    const at = { item_id: item.id, output_index: item.index, summary_index: 0 };
    if (item.text === "")
      frames.push(
        this.frame("response.reasoning_summary_part.added", {
          ...at,
          part: { type: "summary_text", text: "" },
        }),
      );
    item.text += delta;
    frames.push(this.frame("response.reasoning_summary_text.delta", { ...at, delta }));
    return frames;
  }

  /** A signature ends its reasoning item; it travels in the item's encrypted_content. */
  signed(signature: ReasoningSignature): string[] {
    const { frames, item } = this.openReasoning();
    this.open = this.open.filter((o) => o !== item);
    return [...frames, ...this.close(item, signature)];
  }

  redacted(data: ReasoningSignature): string[] {
    const frames = this.closeOpen();
    const item = reasoningItem({ type: "redacted", data }, itemId("rs", this.meta, this.reasonings++));
    frames.push(
      this.add({ ...item, status: "in_progress" }),
      this.finishItem(this.state.output.length - 1, item),
    );
    return frames;
  }

  callStart(event: Extract<ChatStreamEvent, { type: "tool-call-start" }>): string[] {
    const frames = this.closeOpen("call");
    const id = itemId("fc", this.meta, this.calls++);
    const call = {
      id: event.id,
      name: event.name,
      ...(event.signature ? { signature: event.signature } : {}),
    };
    const open: Open = { kind: "call", index: this.state.output.length, id, call, args: "" };
    this.open.push(open);
    frames.push(this.add(functionCallItem(id, call, "", "in_progress")));
    this.callsByIndex.set(event.index, open);
    return frames;
  }

  private readonly callsByIndex = new Map<number, Extract<Open, { kind: "call" }>>();

  callDelta(index: number, delta: string): string[] {
    const call = this.callsByIndex.get(index);
    if (!call || !delta) return [];
    call.args += delta;
    return [
      this.frame("response.function_call_arguments.delta", {
        item_id: call.id,
        output_index: call.index,
        delta,
      }),
    ];
  }

  end(
    finish: { finishReason: FinishReason; rawFinishReason: string } | undefined,
    usage: Usage | undefined,
  ): string[] {
    const frames = this.closeOpen();
    Object.assign(this.state, statusOf(finish?.finishReason ?? "stop"), {
      usage,
      rawFinishReason: finish?.rawFinishReason ?? "stop",
    });
    const type = this.state.status === "incomplete" ? "response.incomplete" : "response.completed";
    frames.push(this.frame(type, { response: this.response() }));
    return frames;
  }

  /** response.failed ends the response; the error event after it is what SDKs raise. */
  fail(error: GatewayError): string {
    const frames = this.closeOpen();
    const payload = openAiErrorPayload(error);
    this.state.status = "failed";
    this.state.error = { code: String(payload.code), message: String(payload.message) };
    frames.push(
      this.frame("response.failed", { response: this.response() }),
      this.frame("error", {
        code: payload.code,
        message: payload.message,
        param: payload.param,
        error: payload,
      }),
    );
    return frames.join("");
  }
}

const streams = new WeakMap<ResponseMeta, ResponsesStream>();

export async function* encodeResponsesStream(
  events: AsyncIterable<ChatStreamEvent>,
  meta: ResponseMeta,
): AsyncGenerator<string> {
  const stream = new ResponsesStream(meta);
  streams.set(meta, stream);
  yield stream.start().join("");
  let finish: { finishReason: FinishReason; rawFinishReason: string } | undefined;
  for await (const event of events) {
    let frames: string[] = [];
    switch (event.type) {
      case "text-delta":
        if (event.text) frames = stream.text(event.text);
        break;
      case "reasoning-delta":
        if (event.text) frames = stream.reasoning(event.text);
        break;
      case "reasoning-signature":
        frames = stream.signed(event.signature);
        break;
      case "reasoning-redacted":
        frames = stream.redacted(event.data);
        break;
      case "tool-call-start":
        frames = stream.callStart(event);
        break;
      case "tool-call-delta":
        frames = stream.callDelta(event.index, event.argumentsDelta);
        break;
      case "finish":
        finish = event;
        break;
      case "usage":
        frames = stream.end(finish, event.usage);
        finish = undefined;
        break;
    }
    if (frames.length > 0) yield frames.join("");
  }
}

/** Ends a stream broken after its first byte: response.failed, then an `error` event. */
export function renderResponsesStreamError(error: GatewayError, meta: ResponseMeta): string {
  return (streams.get(meta) ?? new ResponsesStream(meta)).fail(error);
}
