import type {
  ChatMessage,
  ContentPart,
  ReasoningPart,
  ReasoningRequest,
  ToolCall,
  ToolChoice,
} from "../../canonical/chat.js";
import { GatewayError } from "../../../shared/errors.js";
import type { DecodedChatRequest } from "../chat-ingress-format.js";
import { CLAUDE_THINKING_ORIGIN } from "./anthropic-message-fields.js";
import { toolCallFromClientId, upstreamToolCallId } from "../tool-call-id-carrier.js";
import {
  parseAnthropicRequest,
  type AnthropicAssistantBlock,
  type AnthropicThinkingConfig,
  type AnthropicRequest,
  type AnthropicUserBlock,
} from "./anthropic-request-schema.js";

type Located<B> = { block: B; path: string };

/** Consecutive messages of one role, which Anthropic combines into a single turn. */
type Turn =
  | { role: "user"; firstIndex: number; blocks: Located<AnthropicUserBlock>[] }
  | { role: "assistant"; firstIndex: number; blocks: Located<AnthropicAssistantBlock>[] };

function invalid(param: string, message: string): GatewayError {
  return new GatewayError("invalid_request", `${param}: ${message}`, { param });
}

function isEmptyText(block: { type: string; text?: string }): boolean {
  return block.type === "text" && block.text === "";
}

function locate<B extends { type: string; text?: string }>(content: B[], messageIndex: number): Located<B>[] {
  return content
    .map((block, j) => ({ block, path: `messages.${messageIndex}.content.${j}` }))
    .filter(({ block }) => !isEmptyText(block));
}

/** Drops empty text blocks (upstreams reject them) and merges consecutive same-role messages. */
function groupTurns(messages: AnthropicRequest["messages"]): Turn[] {
  const turns: Turn[] = [];
  messages.forEach((message, i) => {
    if (message.content.every(isEmptyText)) {
      // An empty final assistant message means "no prefill"; anywhere else it is a mistake.
      if (message.role === "assistant" && i === messages.length - 1) return;
      throw invalid(`messages.${i}.content`, "must not be empty");
    }
    const last = turns.at(-1);
    if (message.role === "user") {
      const blocks = locate(message.content, i);
      if (last?.role === "user") last.blocks.push(...blocks);
      else turns.push({ role: "user", firstIndex: i, blocks });
    } else {
      const blocks = locate(message.content, i);
      if (last?.role === "assistant") last.blocks.push(...blocks);
      else turns.push({ role: "assistant", firstIndex: i, blocks });
    }
  });
  return turns;
}

/** Anthropic's pairing rule: a user turn answers exactly the tool_use blocks of the assistant turn before it. */
function checkToolPairing(turns: Turn[]): void {
  let pending = new Set<string>();
  for (const turn of turns) {
    if (turn.role === "assistant") {
      pending = new Set(turn.blocks.flatMap(({ block }) => (block.type === "tool_use" ? [block.id] : [])));
      continue;
    }
    for (const { block, path } of turn.blocks) {
      if (block.type !== "tool_result") continue;
      if (!pending.delete(block.tool_use_id)) {
        throw invalid(
          `${path}.tool_use_id`,
          `${JSON.stringify(block.tool_use_id)} does not answer a tool_use block of the previous assistant message`,
        );
      }
    }
    if (pending.size > 0) {
      throw invalid(
        `messages.${turn.firstIndex}.content`,
        `every tool_use of the previous assistant message needs a tool_result block here; missing: ${[...pending].join(", ")}`,
      );
    }
  }
}

function convertUserTurn(blocks: AnthropicUserBlock[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case "tool_result":
        out.push({
          role: "tool",
          toolCallId: upstreamToolCallId(block.tool_use_id),
          // Separate text blocks are separate pieces of output; keep them apart.
          content: (block.content ?? []).map((b) => b.text).join("\n"),
          ...(block.is_error ? { isError: true } : {}),
        });
        break;
      case "text":
        parts.push({ type: "text", text: block.text });
        break;
      case "image":
        parts.push(
          block.source.type === "base64"
            ? { type: "image", mediaType: block.source.media_type, data: block.source.data }
            : { type: "image", url: block.source.url },
        );
        break;
    }
  }
  // Tool results answer the previous turn, so they come before this turn's own words.
  if (parts.length > 0) out.push({ role: "user", content: parts });
  return out;
}

/** Thinking a client echoes was Claude's when it is signed; unsigned thinking came from another model. */
function reasoningOf(blocks: AnthropicAssistantBlock[]): ReasoningPart[] {
  return blocks.flatMap((b): ReasoningPart[] => {
    if (b.type === "redacted_thinking")
      return [{ type: "redacted", data: { origin: CLAUDE_THINKING_ORIGIN, value: b.data } }];
    if (b.type !== "thinking") return [];
    return [
      {
        type: "thinking",
        text: b.thinking,
        ...(b.signature ? { signature: { origin: CLAUDE_THINKING_ORIGIN, value: b.signature } } : {}),
      },
    ];
  });
}

/** Anthropic clients carry thinking in thinking blocks; ids carry only a call's own signature. */
function carriedSignature(clientId: string): Pick<ToolCall, "id" | "signature"> {
  const { id, signature } = toolCallFromClientId(clientId);
  return signature ? { id, signature } : { id };
}

function convertAssistantTurn(blocks: AnthropicAssistantBlock[]): ChatMessage {
  const reasoning = reasoningOf(blocks);
  return {
    role: "assistant",
    ...(reasoning.length > 0 ? { reasoning } : {}),
    // Anthropic splits one reply into several text blocks (around tool calls, at citations): concatenate.
    content: blocks.map((b) => (b.type === "text" ? b.text : "")).join(""),
    toolCalls: blocks.flatMap((b) =>
      b.type === "tool_use"
        ? [{ ...carriedSignature(b.id), name: b.name, arguments: JSON.stringify(b.input) }]
        : [],
    ),
  };
}

function convertThinking(thinking: AnthropicThinkingConfig | undefined): ReasoningRequest | undefined {
  if (!thinking) return undefined;
  if (thinking.type === "disabled") return { enabled: false };
  return thinking.type === "enabled"
    ? { enabled: true, budgetTokens: thinking.budget_tokens }
    : { enabled: true };
}

function convertToolChoice(body: AnthropicRequest): { toolChoice?: ToolChoice; parallelToolCalls?: boolean } {
  const choice = body.tool_choice;
  if (!choice) return {};
  const toolNames = new Set((body.tools ?? []).map((t) => t.name));
  if ((choice.type === "any" || choice.type === "tool") && toolNames.size === 0) {
    throw invalid("tool_choice.type", `${JSON.stringify(choice.type)} needs at least one tool in tools`);
  }
  if (choice.type === "tool" && !toolNames.has(choice.name)) {
    throw invalid("tool_choice.name", `${JSON.stringify(choice.name)} is not one of the tools`);
  }
  const toolChoice: ToolChoice =
    choice.type === "any" ? "required" : choice.type === "tool" ? { name: choice.name } : choice.type;
  const disable = choice.type === "none" ? undefined : choice.disable_parallel_tool_use;
  return { toolChoice, ...(disable === undefined ? {} : { parallelToolCalls: !disable }) };
}

/**
 * Decodes a Messages API body into the canonical request. `top_k` is validated and then
 * dropped: the canonical model has no such field, so no upstream receives it.
 */
export function decodeAnthropicRequest(body: unknown): DecodedChatRequest {
  const b = parseAnthropicRequest(body);
  if (b.messages[0]!.role !== "user")
    throw invalid("messages.0.role", 'the first message must use the "user" role');
  const turns = groupTurns(b.messages);
  checkToolPairing(turns);

  const messages: ChatMessage[] = [];
  // Separate system blocks are usually separate sections of the prompt.
  const system = (b.system ?? []).map((block) => block.text).join("\n");
  if (system !== "") messages.push({ role: "system", content: system });
  for (const turn of turns) {
    if (turn.role === "user") messages.push(...convertUserTurn(turn.blocks.map((l) => l.block)));
    else messages.push(convertAssistantTurn(turn.blocks.map((l) => l.block)));
  }

  return {
    model: b.model,
    stream: b.stream === true,
    // Anthropic streams always report usage (message_delta), so the client always gets it.
    includeUsage: true,
    request: {
      messages,
      tools: b.tools?.map((t) => ({ name: t.name, description: t.description, parameters: t.input_schema })),
      ...convertToolChoice(b),
      maxTokens: b.max_tokens,
      temperature: b.temperature,
      topP: b.top_p,
      stop: b.stop_sequences?.length ? b.stop_sequences : undefined,
      reasoning: convertThinking(b.thinking),
      user: b.metadata?.user_id ?? undefined,
    },
  };
}
