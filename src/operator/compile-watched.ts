import {
  compile,
  type CompileOptions,
  type CompileResult,
  type Diagnostic,
  type SourcedObject,
} from "../shared/compile.js";
import { GROUP_VERSION } from "../shared/schemas/common.js";
import { resourceKey } from "./compile-outcome.js";
import type { WatchedObject } from "./informers/watched-resources.js";

interface CredentialRefs {
  credentials?: { secretRef?: { name?: string } };
  consumers?: Array<{ apiKeySecretRef?: { name?: string } }>;
}

/** Names of the Secrets a provider or route spec refers to (credentials and consumer keys). */
export function referencedSecretNames(spec: unknown): string[] {
  const s = (spec ?? {}) as CredentialRefs;
  const names: string[] = [];
  if (s.credentials?.secretRef?.name) names.push(s.credentials.secretRef.name);
  for (const consumer of s.consumers ?? [])
    if (consumer.apiKeySecretRef?.name) names.push(consumer.apiKeySecretRef.name);
  return names;
}

function asCompileInput(kind: "LLMProvider" | "LLMRoute", object: WatchedObject): SourcedObject {
  const { name, namespace, generation, uid } = object.metadata ?? {};
  return {
    object: {
      apiVersion: GROUP_VERSION,
      kind,
      metadata: { name, namespace, generation, uid },
      spec: object.spec,
    },
    source: "cluster",
  };
}

export interface WatchedCompile {
  result: CompileResult;
  compiledGenerations: Map<string, number | undefined>;
  diagnostics: Map<string, Diagnostic[]>;
  blockingErrors: Diagnostic[];
}

/** Compiles cluster objects with the shared compiler, passing only the Secrets they reference. */
export function compileWatched(
  providers: readonly WatchedObject[],
  routes: readonly WatchedObject[],
  getSecret: (namespace: string, name: string) => WatchedObject | undefined,
  options: CompileOptions = {},
): WatchedCompile {
  const inputs: SourcedObject[] = [
    ...providers.map((p) => asCompileInput("LLMProvider", p)),
    ...routes.map((r) => asCompileInput("LLMRoute", r)),
  ];
  const wanted = new Set<string>();
  for (const object of [...providers, ...routes]) {
    for (const name of referencedSecretNames(object.spec))
      wanted.add(`${object.metadata?.namespace}/${name}`);
  }
  for (const key of wanted) {
    const [namespace, name] = key.split("/") as [string, string];
    const secret = getSecret(namespace, name);
    if (secret) {
      inputs.push({
        object: { apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, data: secret.data ?? {} },
        source: "cluster",
      });
    }
  }
  const result = compile(inputs, options);
  const compiledGenerations = new Map<string, number | undefined>();
  for (const p of providers) {
    compiledGenerations.set(
      resourceKey("LLMProvider", p.metadata!.namespace!, p.metadata!.name!),
      p.metadata?.generation,
    );
  }
  for (const r of routes) {
    compiledGenerations.set(
      resourceKey("LLMRoute", r.metadata!.namespace!, r.metadata!.name!),
      r.metadata?.generation,
    );
  }
  const diagnostics = new Map<string, Diagnostic[]>();
  for (const d of result.diagnostics) {
    const list = diagnostics.get(d.resource) ?? [];
    list.push(d);
    diagnostics.set(d.resource, list);
  }
  return {
    result,
    compiledGenerations,
    diagnostics,
    blockingErrors: result.diagnostics.filter((d) => d.severity === "error"),
  };
}
