import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startOpenAiFake, type OpenAiFake } from "../../fakes/openai-fake.js";
import { startTestGateway, type TestGateway } from "../../support/gateway-harness.js";
import { chatBody, docs, provider, route } from "./traffic-manifests.js";

/**
 * ServiceAccount consumers against the real kube-apiserver of the test control plane: tokens from
 * the TokenRequest API, verified by the gateway through TokenReview.
 */

const namespace = `sb-consumers-${randomBytes(3).toString("hex")}`;
let kubeConfig: KubeConfig;
let core: CoreV1Api;
let upstream: OpenAiFake;
let gateway: TestGateway;
let robotToken: string;
let strangerToken: string;

async function tokenFor(name: string): Promise<string> {
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const request = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  return request.status!.token;
}

const chat = (model: string, token?: string) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: chatBody("hello from a pod", { model }),
  });

beforeAll(async () => {
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(inject("switchboardKubeconfig"));
  core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  robotToken = await tokenFor("robot");
  strangerToken = await tokenFor("stranger");
  upstream = await startOpenAiFake({ flavor: "vllm" });
  gateway = await startTestGateway(
    {
      "all.yaml": docs(
        provider("fake", upstream.baseUrl, [{ name: "m" }]),
        route("pod-chat", {
          targets: [{ provider: "fake", model: "m" }],
          consumers: [{ name: "robot", serviceAccount: { name: "robot", namespace } }],
        }),
        route("open-chat", { targets: [{ provider: "fake", model: "m" }] }),
      ),
    },
    { gateway: { tokenReview: { kubeConfig } } },
  );
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  await core?.deleteNamespace({ name: namespace }).catch(() => undefined);
});

describe("ServiceAccount consumers", () => {
  it("admits a listed ServiceAccount's token, through the OpenAI SDK", async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: robotToken, maxRetries: 0 });
    const reply = await client.chat.completions.create({
      model: "pod-chat",
      messages: [{ role: "user", content: "hello from a pod" }],
    });
    expect(reply.choices[0]!.message.content).toBe("You said: hello from a pod");
    const log = gateway.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.route === "default/pod-chat");
    expect(log).toMatchObject({ consumer: "robot", outcome: "ok" });
  });

  it("answers 403 naming a valid ServiceAccount the route does not list", async () => {
    const res = await chat("pod-chat", strangerToken);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      `ServiceAccount ${namespace}/stranger is authenticated`,
    );
  });

  it("answers 401 for a token the API server does not accept", async () => {
    const [header, payload] = robotToken.split(".");
    const forged = `${header}.${payload}.${Buffer.from("not the signature").toString("base64url")}`;
    const res = await chat("pod-chat", forged);
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain(forged);
  });

  it("lists the ServiceAccount's routes in GET /v1/models", async () => {
    const list = async (token?: string) =>
      (
        (await (
          await fetch(`${gateway.url}/v1/models`, {
            headers: token ? { authorization: `Bearer ${token}` } : {},
          })
        ).json()) as { data: Array<{ id: string }> }
      ).data.map((m) => m.id);
    expect(await list(robotToken)).toEqual(["open-chat", "pod-chat"]);
    expect(await list(strangerToken)).toEqual(["open-chat"]);
  });

  it("never writes a token to the log", async () => {
    const all = gateway.logs.join("\n");
    expect(all).not.toContain(robotToken);
    expect(all).not.toContain(strangerToken.split(".")[2]!);
  });
});

describe("a gateway without permission to create TokenReviews", () => {
  it("answers 503 saying which permission is missing", async () => {
    const operatorOnly = new KubeConfig();
    operatorOnly.loadFromFile(inject("switchboardOperatorKubeconfig"));
    const limited = await startTestGateway(
      {
        "all.yaml": docs(
          provider("fake", upstream.baseUrl, [{ name: "m" }]),
          route("pod-chat", {
            targets: [{ provider: "fake", model: "m" }],
            consumers: [{ name: "robot", serviceAccount: { name: "robot", namespace } }],
          }),
        ),
      },
      { gateway: { tokenReview: { kubeConfig: operatorOnly } } },
    );
    try {
      const res = await fetch(`${limited.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${robotToken}` },
        body: chatBody("hi", { model: "pod-chat" }),
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
        "create on tokenreviews",
      );
    } finally {
      await limited.close();
    }
  });
});
