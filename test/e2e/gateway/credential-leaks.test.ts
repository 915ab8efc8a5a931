import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import type { Fault } from "../../fakes/fake-http-server.js";
import { startUpstreams, UPSTREAMS, type Family, type Upstream, type Upstreams } from "./upstreams.js";

/**
 * Plants a unique credential in every credential slot (each upstream's Secret), makes every
 * upstream echo it back in every field of every error it can send (before and inside streams, in
 * its own format and in bodies of no format, with the key where a 300-character cut falls), and
 * hunts for any 8 characters of it in everything the gateway shows: response bodies and headers
 * in both client formats, stream error events, embeddings errors, log lines (the access log's
 * `error` field among them), /metrics and /admin/state.
 */

const FRAGMENT = 8;

let upstreams: Upstreams;
let gateway: TestGateway;
const shown: Array<{ what: string; text: string }> = [];

beforeAll(async () => {
  upstreams = await startUpstreams();
  gateway = await startTestGateway(upstreams.manifests, { watch: true });
});

afterAll(async () => {
  await gateway?.close();
  await upstreams?.close();
});

/** The first place any run of FRAGMENT characters of a planted credential shows, if any. */
function leaks(secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    for (let i = 0; i + FRAGMENT <= secret.length; i++) {
      const fragment = secret.slice(i, i + FRAGMENT);
      // Runs without a digit or capital ("e-openai") also occur in route names; keys are mixed.
      if (/\s/.test(fragment) || !/[0-9A-Z]/.test(fragment)) continue;
      const at = shown.find((s) => s.text.includes(fragment));
      if (at) {
        found.push(`"${fragment}" of a credential in ${at.what}`);
        break;
      }
    }
  }
  return found;
}

/** What the upstream echoes: its credentials, whole and cut, glued to words. */
function echo(u: Upstream): string {
  return u.secrets.map((s) => `key=${s} token_${s} cut:${s.slice(0, 20)}`).join(" ");
}

function errorBody(family: Family, status: number, value: string): unknown {
  switch (family) {
    case "openai":
      return { error: { message: value, type: value, param: value, code: value } };
    case "anthropic":
      return { type: "error", error: { type: value, message: value } };
    case "gemini":
      return { error: { code: status, message: value, status: value } };
    case "bedrock":
      return { message: value, Message: value };
  }
}

const BEDROCK_TYPES: Record<number, string> = {
  400: "ValidationException",
  401: "UnrecognizedClientException",
  403: "AccessDeniedException",
  429: "ThrottlingException",
  500: "InternalServerException",
};

/** A 200 stream that starts answering, then fails with an error event carrying `value` everywhere. */
function streamWithError(family: Family, value: string): Fault | undefined {
  const sse = (events: Array<[string | undefined, unknown]>) =>
    events
      .map(([event, data]) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`)
      .join("");
  const headers = { "content-type": "text/event-stream" };
  switch (family) {
    case "openai":
      return {
        kind: "raw",
        status: 200,
        headers,
        body: sse([
          [
            undefined,
            {
              id: "c1",
              object: "chat.completion.chunk",
              created: 1,
              model: "m",
              choices: [{ index: 0, delta: { role: "assistant", content: "Hi" }, finish_reason: null }],
            },
          ],
          [undefined, errorBody("openai", 500, value)],
        ]),
      };
    case "anthropic":
      return {
        kind: "raw",
        status: 200,
        headers,
        body: sse([
          [
            "message_start",
            {
              type: "message_start",
              message: {
                id: "m1",
                type: "message",
                role: "assistant",
                model: "m",
                content: [],
                stop_reason: null,
                usage: { input_tokens: 1, output_tokens: 0 },
              },
            },
          ],
          [
            "content_block_start",
            { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
          ],
          [
            "content_block_delta",
            { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } },
          ],
          ["error", errorBody("anthropic", 500, value)],
        ]),
      };
    case "gemini":
      return {
        kind: "raw",
        status: 200,
        headers,
        body: sse([
          [undefined, { candidates: [{ content: { role: "model", parts: [{ text: "Hi" }] }, index: 0 }] }],
          [undefined, errorBody("gemini", 500, value)],
        ]),
      };
    case "bedrock":
      return undefined;
  }
}

/** Every error answer the upstream can give, each carrying its credentials. */
function faults(u: Upstream): Array<{ name: string; fault: Fault }> {
  const value = echo(u);
  const out: Array<{ name: string; fault: Fault }> = [];
  for (const status of [400, 401, 403, 429, 500]) {
    const headers: Record<string, string> =
      u.family === "bedrock" ? { "x-amzn-errortype": BEDROCK_TYPES[status]! } : {};
    out.push({
      name: `HTTP ${status}`,
      fault: { kind: "status", status, body: errorBody(u.family, status, value), headers },
    });
  }
  if (u.family === "bedrock") {
    const glued = `Validation${u.secrets[0]!.replace(/[^A-Za-z0-9]/g, "")}Exception`;
    out.push({
      name: "an error type made of the key",
      fault: {
        kind: "status",
        status: 400,
        body: { message: value },
        headers: { "x-amzn-errortype": glued },
      },
    });
  }
  for (const secret of u.secrets.slice(0, 2)) {
    for (const inKey of [1, 9, Math.floor(secret.length / 2), secret.length - 1]) {
      out.push({
        name: `a text body cut ${inKey} characters into a key`,
        fault: {
          kind: "raw",
          status: 502,
          headers: { "content-type": "text/html" },
          body: `<html>${"k".repeat(Math.max(0, 294 - inKey))}${secret} and more</html>`,
        },
      });
    }
  }
  return out;
}

async function call(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  shown.push({
    what: `${path} ${JSON.stringify(body).slice(0, 80)} → HTTP ${res.status}`,
    text: `${headers}\n${await res.text()}`,
  });
}

const chat = (u: Upstream, stream: boolean): Array<() => Promise<void>> => [
  () =>
    call("/v1/chat/completions", {
      model: `chat-${u.key}`,
      stream,
      messages: [{ role: "user", content: "hi" }],
    }),
  () =>
    call("/v1/messages", {
      model: `chat-${u.key}`,
      stream,
      max_tokens: 16,
      messages: [{ role: "user", content: "hi" }],
    }),
];

describe("no credential reaches any output", () => {
  for (const spec of UPSTREAMS.filter((s) => s.auth === "secretRef")) {
    it(`${spec.row}: errors before and inside streams, chat and embeddings, both client formats`, async () => {
      const u = upstreams.get(spec.key);
      // A first good call, so token grants (Vertex) are done and cached before faults are queued.
      for (const request of chat(u, false)) await request();
      for (const { fault } of faults(u)) {
        for (const stream of [false, true]) {
          for (const request of chat(u, stream)) {
            u.fake.faults.push(fault);
            await request();
          }
        }
        if (spec.embedding && spec.family !== "anthropic") {
          u.fake.faults.push(fault);
          await call("/v1/embeddings", { model: `embed-${u.key}`, input: "hi" });
        }
        u.fake.faults.length = 0;
      }
      const midStream = streamWithError(spec.family, echo(u));
      if (midStream) {
        for (const path of ["/v1/chat/completions", "/v1/messages"]) {
          u.fake.faults.push(midStream);
          await call(path, {
            model: `chat-${u.key}`,
            stream: true,
            max_tokens: 16,
            messages: [{ role: "user", content: "hi" }],
          });
          u.fake.faults.length = 0;
        }
        expect(shown.at(-1)!.text).toMatch(/event: error|"error"/);
      }
      expect(leaks(u.secrets)).toEqual([]);
    });
  }

  it("refuses a live reload of a malformed Secret manifest without quoting it", async () => {
    const planted = "sk-planted-Reload0Key9Xy7Wv5Ut3";
    const before = gateway.logs.length;
    await gateway.writeManifest(
      "broken-secret.yaml",
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: broken\nstringData:\n  value: ${planted}: oops\n`,
    );
    await expect
      .poll(() => gateway.logs.slice(before).join("\n"), { timeout: 10_000 })
      .toContain("broken-secret.yaml");
    shown.push({ what: "readyz", text: await (await fetch(`${gateway.url}/readyz`)).text() });
    shown.push({ what: "the log after the refused reload", text: gateway.logs.slice(before).join("\n") });
    expect(leaks([planted])).toEqual([]);
  });

  it("shows none in the log, /metrics or /admin/state either", async () => {
    shown.push({ what: "the gateway log", text: gateway.logs.join("\n") });
    shown.push({ what: "/metrics", text: await (await fetch(`${gateway.adminUrl!}/metrics`)).text() });
    shown.push({
      what: "/admin/state",
      text: await (await fetch(`${gateway.adminUrl!}/admin/state`)).text(),
    });
    expect(gateway.logs.some((line) => line.includes('"error"'))).toBe(true);
    expect(leaks(upstreams.secrets)).toEqual([]);
  });
});
