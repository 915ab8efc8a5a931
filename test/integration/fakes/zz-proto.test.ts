import { test, expect } from "vitest";
import { writeFileSync } from "node:fs";
import { WorkloadIdentityCredential, getBearerTokenProvider } from "@azure/identity";
import { startEntraTokenFake } from "../../fakes/entra-token-fake.js";
test("proto", async () => {
  const fake = await startEntraTokenFake({ tenantId: "tenant-1", clientId: "client-1", federatedToken: "k8s-sa-token" });
  writeFileSync("/tmp/proto/token", "k8s-sa-token\n");
  const cred = new WorkloadIdentityCredential({ tenantId: "tenant-1", clientId: "client-1", tokenFilePath: "/tmp/proto/token", authorityHost: fake.url, disableInstanceDiscovery: true, tlsOptions: { ca: fake.caCert } });
  const t = await cred.getToken("https://cognitiveservices.azure.com/.default");
  console.log(t, fake.tokenRequests.map(r => r.body));
  await fake.close();
});
