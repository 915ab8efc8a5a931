import type { ChatMessage, ToolDefinition } from "../canonical/chat.js";

/*
 * Anthropic's Messages API and Bedrock's Converse refuse a conversation holding tool calls or tool
 * results unless the request defines tools, while OpenAI accepts it: clients commonly drop `tools`
 * for a final turn (a summary) and keep the history. Those adapters then declare the tools the
 * history used with stand-in definitions.
 */

/** Names of the tools the history's assistant turns called, in order of first use. */
export function historyToolNames(messages: readonly ChatMessage[]): string[] {
  const names = new Set<string>();
  for (const message of messages) {
    if (message.role === "assistant") for (const call of message.toolCalls) names.add(call.name);
  }
  return [...names];
}

/** A stand-in for a tool the history used that the request no longer offers. */
export function historyToolPlaceholder(name: string): ToolDefinition {
  return {
    name,
    description:
      "Used earlier in this conversation and no longer offered. Do not call it; answer from the results already given.",
    // Permissive: the request says nothing about its arguments any more.
    parameters: { type: "object" },
  };
}
