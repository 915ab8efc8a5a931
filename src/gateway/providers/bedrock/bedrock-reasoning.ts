import type { ContentBlock, ReasoningContentBlock } from "@aws-sdk/client-bedrock-runtime";
import type { ChatRequest, ReasoningPart, ReasoningSignature } from "../../canonical/chat.js";
import { CLAUDE_SIGNATURE_ORIGIN, anthropicThinking } from "../anthropic/anthropic-reasoning.js";

type DocumentValue = NonNullable<ContentBlock.ToolUseMember["toolUse"]["input"]>;

/**
 * Claude on Bedrock, by model id, inference profile id (`us.anthropic.claude-…`) or an ARN that
 * names one. Converse carries Claude's thinking settings in `additionalModelRequestFields`, in
 * the Messages API's own shape; other families name theirs differently or always reason.
 */
export function isClaudeOnBedrock(modelId: string): boolean {
  return /(^|[./:])anthropic\.claude/.test(modelId);
}

/**
 * Who can verify a signature a Bedrock model put on its reasoning: Claude's verify wherever Claude
 * runs, any other family's only on that same model.
 */
export function bedrockSignatureOrigin(modelId: string): string {
  return isClaudeOnBedrock(modelId) ? CLAUDE_SIGNATURE_ORIGIN : `bedrock:${modelId}`;
}

/**
 * The `additionalModelRequestFields` a reasoning request needs: Claude's `thinking` parameter,
 * as for the Messages API. Other families get none (a documented drop: their reasoning settings
 * differ per family or do not exist).
 */
export function bedrockReasoningFields(
  request: ChatRequest,
  maxTokens: number,
): Record<string, DocumentValue> | undefined {
  if (!isClaudeOnBedrock(request.model)) return undefined;
  const thinking = anthropicThinking(request.reasoning, maxTokens);
  return thinking ? { thinking: thinking as DocumentValue } : undefined;
}

/** History reasoning as Converse blocks: only what this model can verify, unchanged and in order. */
export function bedrockReasoningBlocks(
  parts: readonly ReasoningPart[] | undefined,
  modelId: string,
): ContentBlock[] {
  const origin = bedrockSignatureOrigin(modelId);
  return (parts ?? []).flatMap((part): ContentBlock[] => {
    if (part.type === "redacted")
      return part.data.origin === origin
        ? [{ reasoningContent: { redactedContent: Buffer.from(part.data.value, "base64") } }]
        : [];
    return part.signature?.origin === origin
      ? [{ reasoningContent: { reasoningText: { text: part.text, signature: part.signature.value } } }]
      : [];
  });
}

/** Redacted reasoning as the canonical string: the base64 the Converse JSON carries. */
export function redactedReasoning(bytes: Uint8Array, modelId: string): ReasoningSignature {
  return { origin: bedrockSignatureOrigin(modelId), value: Buffer.from(bytes).toString("base64") };
}

/** A response's reasoningContent block as a canonical part (unsigned reasoning stays unsigned). */
export function bedrockReasoningPart(
  block: ReasoningContentBlock,
  modelId: string,
): ReasoningPart | undefined {
  if (block.redactedContent)
    return { type: "redacted", data: redactedReasoning(block.redactedContent, modelId) };
  if (!block.reasoningText) return undefined;
  const { text, signature } = block.reasoningText;
  return {
    type: "thinking",
    text: text ?? "",
    ...(signature ? { signature: { origin: bedrockSignatureOrigin(modelId), value: signature } } : {}),
  };
}
