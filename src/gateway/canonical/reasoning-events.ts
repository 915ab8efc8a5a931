import type { ChatStreamEvent, ReasoningPart } from "./chat.js";

/** Reasoning parts as the stream events that carry them. */
export function reasoningEvents(parts: readonly ReasoningPart[] | undefined): ChatStreamEvent[] {
  return (parts ?? []).flatMap((part): ChatStreamEvent[] => {
    if (part.type === "redacted") return [{ type: "reasoning-redacted", data: part.data }];
    const events: ChatStreamEvent[] = part.text ? [{ type: "reasoning-delta", text: part.text }] : [];
    if (part.signature) events.push({ type: "reasoning-signature", signature: part.signature });
    return events;
  });
}

/** Collects a stream's reasoning events back into parts. */
export class ReasoningAssembler {
  readonly parts: ReasoningPart[] = [];
  /** The thinking part deltas still extend: none once signed or after other content. */
  private open: Extract<ReasoningPart, { type: "thinking" }> | undefined;

  /** Takes a reasoning event (true) or notes that other content began (false). */
  add(event: ChatStreamEvent): boolean {
    switch (event.type) {
      case "reasoning-delta":
        if (!this.open) this.parts.push((this.open = { type: "thinking", text: "" }));
        this.open.text += event.text;
        return true;
      case "reasoning-signature":
        if (this.open) this.open.signature = event.signature;
        else this.parts.push({ type: "thinking", text: "", signature: event.signature });
        this.open = undefined;
        return true;
      case "reasoning-redacted":
        this.parts.push({ type: "redacted", data: event.data });
        this.open = undefined;
        return true;
      default:
        this.open = undefined;
        return false;
    }
  }
}
