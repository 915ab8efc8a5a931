import Anthropic, { AuthenticationError, BadRequestError, NotFoundError } from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FakeServer } from "../../fakes/fake-http-server.js";
import { startAnthropicFake } from "../../fakes/anthropic-fake.js";

/** The Anthropic fake's POST /v1/messages/count_tokens, as the official SDK's messages.countTokens sees it. */

const API_KEY = "sk-ant-fake-count-key-0123456789";
const MODEL = "claude-haiku-4-5";

let fake: FakeServer;
let client: Anthropic;

beforeAll(async () => {
  fake = await startAnthropicFake({ apiKey: API_KEY, models: [MODEL] });
  client = new Anthropic({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 0 });
});
afterAll(() => fake.close());

const params: Anthropic.MessageCountTokensParams = {
  model: MODEL,
  system: "Be brief.",
  messages: [{ role: "user", content: "Hello there" }],
};

describe("Anthropic fake: count_tokens", () => {
  it("counts the same input tokens a Messages call reports for the same prompt", async () => {
    const counted = await client.messages.countTokens(params);
    const message = await client.messages.create({ ...params, max_tokens: 64 });
    expect(counted).toEqual({ input_tokens: message.usage.input_tokens });
    expect(counted.input_tokens).toBeGreaterThan(0);
  });

  it("rejects a wrong key with authentication_error", async () => {
    const wrong = new Anthropic({ apiKey: "sk-ant-wrong", baseURL: fake.url, maxRetries: 0 });
    await expect(wrong.messages.countTokens(params)).rejects.toBeInstanceOf(AuthenticationError);
  });

  it("rejects max_tokens as an extra input, as the API does", async () => {
    const error = await client.messages
      .countTokens({ ...params, max_tokens: 10 } as Anthropic.MessageCountTokensParams)
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).error).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: "max_tokens: Extra inputs are not permitted" },
    });
  });

  it("answers an unknown model with not_found_error", async () => {
    await expect(client.messages.countTokens({ ...params, model: "claude-unknown" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
