import { z } from "zod";

/**
 * The stateless part of OpenAI's Responses API request (`POST /v1/responses`), as the `openai`
 * SDK types it (resources/responses). Unknown fields are ignored, as in chat completions; the
 * fields that need server-side state or built-in tools are refused by the decoder by name.
 */

const inputText = z.object({ type: z.literal("input_text"), text: z.string() });
const inputImage = z.object({
  type: z.literal("input_image"),
  image_url: z.string().min(1, "must not be empty").nullable().optional(),
  file_id: z.string().nullable().optional(),
  detail: z.string().optional(),
});
const inputFile = z.object({ type: z.literal("input_file") }).passthrough();
const outputText = z.object({ type: z.literal("output_text"), text: z.string() }).passthrough();
const refusal = z.object({ type: z.literal("refusal"), refusal: z.string() });

const contentPart = z.discriminatedUnion("type", [inputText, inputImage, inputFile, outputText, refusal]);

export const messageItem = z.object({
  type: z.literal("message"),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(contentPart)]),
  id: z.string().optional(),
  status: z.string().optional(),
});

export const functionCallItem = z.object({
  type: z.literal("function_call"),
  call_id: z.string().min(1, "must not be empty"),
  name: z.string().min(1, "must not be empty"),
  arguments: z.string(),
  id: z.string().optional(),
  status: z.string().optional(),
});

export const functionCallOutputItem = z.object({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1, "must not be empty"),
  output: z.union([z.string(), z.array(contentPart)]),
  id: z.string().nullable().optional(),
  status: z.string().nullable().optional(),
});

export const reasoningItem = z.object({
  type: z.literal("reasoning"),
  id: z.string().optional(),
  summary: z.array(z.object({ type: z.literal("summary_text"), text: z.string() })).default([]),
  content: z
    .array(z.object({ type: z.literal("reasoning_text"), text: z.string() }))
    .nullable()
    .optional(),
  encrypted_content: z.string().nullable().optional(),
  status: z.string().optional(),
});

/** Each kind of item the decoder understands; any other (item_reference, web_search_call, …) is refused by name. */
export const INPUT_ITEMS = {
  message: messageItem,
  function_call: functionCallItem,
  function_call_output: functionCallOutputItem,
  reasoning: reasoningItem,
} as const;

export type ResponsesInputItem = z.infer<(typeof INPUT_ITEMS)[keyof typeof INPUT_ITEMS]>;

export const functionTool = z.object({
  type: z.literal("function"),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '_' or '-'"),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

/** Checked one by one by the decoder, so that a built-in tool is refused by name. */
const typed = z.object({ type: z.string({ error: "is required" }) }).passthrough();

const format = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: z.string().min(1, "must not be empty"),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

/** EasyInputMessage may leave out `type`: an item with a role and no type is a message. */
const defaultMessageType = (value: unknown) =>
  typeof value === "object" && value !== null && !("type" in value) && "role" in value
    ? { ...value, type: "message" }
    : value;

export const responsesRequestSchema = z.object({
  model: z.string({ error: "is required: name the model (route) to call" }).min(1, "must not be empty"),
  input: z.union(
    [z.string(), z.array(z.preprocess(defaultMessageType, typed)).min(1, "must contain at least one item")],
    {
      error: "is required: a string or an array of input items",
    },
  ),
  instructions: z.string().nullable().optional(),
  tools: z.array(typed).optional(),
  tool_choice: z
    .union([
      z.enum(["auto", "none", "required"]),
      z.object({ type: z.literal("function"), name: z.string() }),
      typed,
    ])
    .optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  text: z
    .object({ format: format.optional(), verbosity: z.string().nullable().optional() })
    .nullable()
    .optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  reasoning: z
    .object({
      effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullable().optional(),
      summary: z.string().nullable().optional(),
    })
    .nullable()
    .optional(),
  include: z.array(z.string()).nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  user: z.string().optional(),
  // Stateful features, refused by the decoder with what to do instead.
  store: z.boolean().nullable().optional(),
  previous_response_id: z.string().nullable().optional(),
  conversation: z.unknown().optional(),
  background: z.boolean().nullable().optional(),
  prompt: z.unknown().optional(),
});

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
