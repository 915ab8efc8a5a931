import { z } from "zod";
import { GatewayError } from "../../../shared/errors.js";

/**
 * Zod schema of the `POST /v1/messages` body the gateway accepts: the Anthropic Messages API
 * minus what the canonical model cannot carry (documents, server tools), which is
 * rejected with a message saying so rather than silently dropped. Unknown top-level fields are
 * ignored, as the OpenAI ingress does.
 */

/** Anthropic accepts a plain string wherever a list of text blocks is allowed. */
function stringOrBlocks<T extends z.ZodType>(block: T) {
  return z.preprocess(
    (value) => (typeof value === "string" ? [{ type: "text", text: value }] : value),
    z.array(block, { error: "must be a string or an array of content blocks" }),
  );
}

/** A union on `type` whose mismatch names the block type and what is allowed instead. */
function blockUnion<
  const T extends readonly [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]],
>(options: T, where: string, allowed: string) {
  return z.discriminatedUnion("type", options, {
    error: (issue) => {
      if (issue.code !== "invalid_union") return undefined;
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      return `${JSON.stringify(type ?? null)} blocks are not supported in ${where}; use ${allowed}`;
    },
  });
}

const textBlock = z.object({ type: z.literal("text"), text: z.string() });

const imageBlock = z.object({
  type: z.literal("image"),
  source: z.discriminatedUnion(
    "type",
    [
      z.object({
        type: z.literal("base64"),
        media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]),
        data: z.string().min(1, "must not be empty"),
      }),
      z.object({ type: z.literal("url"), url: z.string().min(1, "must not be empty") }),
    ],
    {
      error: (issue) =>
        issue.code === "invalid_union" ? 'must be a "base64" or "url" image source' : undefined,
    },
  ),
});

const toolUseBlock = z.object({
  type: z.literal("tool_use"),
  id: z.string().min(1, "must not be empty"),
  name: z.string().min(1, "must not be empty"),
  input: z.record(z.string(), z.unknown(), { error: "must be a JSON object" }),
});

const thinkingBlock = z.object({
  type: z.literal("thinking"),
  thinking: z.string(),
  signature: z.string(),
});

const redactedThinkingBlock = z.object({
  type: z.literal("redacted_thinking"),
  data: z.string().min(1, "must not be empty"),
});

const toolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1, "must not be empty"),
  content: stringOrBlocks(blockUnion([textBlock], "tool_result content", "text blocks")).optional(),
  is_error: z.boolean().optional(),
});

const userBlock = blockUnion(
  [textBlock, imageBlock, toolResultBlock],
  "user messages",
  "text, image or tool_result",
);
const assistantBlock = blockUnion(
  [textBlock, toolUseBlock, thinkingBlock, redactedThinkingBlock],
  "assistant messages",
  "text, tool_use, thinking or redacted_thinking",
);

const thinking = z.discriminatedUnion(
  "type",
  [
    z.object({
      type: z.literal("enabled"),
      budget_tokens: z.number().int("must be a whole number").min(1024, "must be at least 1024"),
      display: z.enum(["summarized", "omitted"]).nullish(),
    }),
    z.object({ type: z.literal("adaptive"), display: z.enum(["summarized", "omitted"]).nullish() }),
    z.object({ type: z.literal("disabled") }),
  ],
  {
    error: (issue) =>
      issue.code === "invalid_union"
        ? 'must be "enabled" (with budget_tokens), "adaptive" or "disabled"'
        : undefined,
  },
);

const message = z.discriminatedUnion(
  "role",
  [
    z.object({ role: z.literal("user"), content: stringOrBlocks(userBlock) }),
    z.object({ role: z.literal("assistant"), content: stringOrBlocks(assistantBlock) }),
  ],
  {
    error: (issue) =>
      issue.code === "invalid_union"
        ? 'must be "user" or "assistant" (a system prompt goes in the top-level system field)'
        : undefined,
  },
);

const tool = z.object({
  // Server tools (web_search_..., bash_..., text_editor_...) run inside Anthropic and have no canonical form.
  type: z
    .literal("custom", {
      error: (issue) =>
        `${JSON.stringify(issue.input)} is a server tool, which the gateway cannot run; define custom tools (name, description, input_schema)`,
    })
    .optional(),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '_' or '-'"),
  description: z.string().optional(),
  input_schema: z.looseObject({ type: z.literal("object", { error: 'must be "object"' }) }),
});

const toolChoice = z.discriminatedUnion(
  "type",
  [
    z.object({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
    z.object({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
    z.object({
      type: z.literal("tool"),
      name: z.string().min(1),
      disable_parallel_tool_use: z.boolean().optional(),
    }),
    z.object({ type: z.literal("none") }),
  ],
  {
    error: (issue) =>
      issue.code === "invalid_union" ? 'must be "auto", "any", "tool" or "none"' : undefined,
  },
);

const anthropicRequestSchema = z.object({
  model: z.string().min(1, "must not be empty"),
  max_tokens: z.number().int("must be a whole number").min(1, "must be at least 1"),
  messages: z.array(message).min(1, "must contain at least one message"),
  system: stringOrBlocks(blockUnion([textBlock], "system", "text blocks")).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0, "must be between 0 and 1").max(1, "must be between 0 and 1").optional(),
  top_p: z.number().min(0, "must be between 0 and 1").max(1, "must be between 0 and 1").optional(),
  // Accepted so Anthropic clients that send it keep working; the canonical model has no top_k and no upstream receives it.
  top_k: z.number().int("must be a whole number").min(0, "must not be negative").optional(),
  stream: z.boolean().optional(),
  thinking: thinking.optional(),
  metadata: z.object({ user_id: z.string().nullish() }).optional(),
});

export type AnthropicRequest = z.infer<typeof anthropicRequestSchema>;
export type AnthropicUserBlock = z.infer<typeof userBlock>;
export type AnthropicAssistantBlock = z.infer<typeof assistantBlock>;
export type AnthropicThinkingConfig = z.infer<typeof thinking>;

/** Default wording for issues the schema does not word itself. */
function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return "is required";
    return issue.expected === "array" || issue.expected === "object"
      ? `must be an ${issue.expected}`
      : `must be a ${issue.expected}`;
  }
  if (issue.code === "invalid_value")
    return `must be ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}`;
  return undefined;
}

/** Paths are dotted as in Anthropic's own errors: `messages.1.content.0.text`. */
export function parseAnthropicRequest(body: unknown): AnthropicRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new GatewayError("invalid_request", "the request body must be a JSON object");
  }
  const parsed = anthropicRequestSchema.safeParse(body, { error: describeIssue });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const param = issue.path.map(String).join(".");
  throw new GatewayError("invalid_request", param ? `${param}: ${issue.message}` : issue.message, {
    param: param || undefined,
  });
}
