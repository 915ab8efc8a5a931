import { describe, expect, it } from "vitest";
import { readGeminiSse } from "../../../../../src/gateway/providers/vertex/read-gemini-sse.js";
import type { UpstreamResponse } from "../../../../../src/gateway/providers/upstream-http.js";

function response(...chunks: string[]): UpstreamResponse {
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const chunk of chunks) yield new TextEncoder().encode(chunk);
  }
  return { status: 200, headers: {}, body: body() as unknown as UpstreamResponse["body"] };
}

async function read(res: UpstreamResponse): Promise<string[]> {
  const data: string[] = [];
  for await (const event of readGeminiSse(res, "p", new AbortController().signal)) data.push(event.data);
  return data;
}

describe("readGeminiSse", () => {
  it("yields data events split across network chunks", async () => {
    expect(await read(response('data: {"a":', '1}\r\n\r\ndata: {"b":2}\r\n\r\n'))).toEqual([
      '{"a":1}',
      '{"b":2}',
    ]);
  });

  it("turns a pretty-printed JSON error outside SSE framing into one event", async () => {
    const error = JSON.stringify(
      { error: { code: 500, message: "Internal error encountered.", status: "INTERNAL" } },
      null,
      2,
    );
    const data = await read(response('data: {"a":1}\r\n\r\n', `${error}\n`));
    expect(data).toHaveLength(2);
    expect(JSON.parse(data[1]!)).toEqual({
      error: { code: 500, message: "Internal error encountered.", status: "INTERNAL" },
    });
  });
});
