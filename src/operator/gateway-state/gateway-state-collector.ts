import type { DiscoveryV1Api, V1EndpointSlice } from "@kubernetes/client-node";
import { request } from "undici";
import type { Logger } from "../../shared/logging.js";
import { gatewayStateSchema, type GatewayState } from "../../shared/schemas/gateway-state.js";
import { describeKubeError } from "../kube-errors.js";
import { mergeGatewayStates, type MergedGatewayState } from "./merge-gateway-states.js";

export interface GatewayServiceRef {
  namespace: string;
  name: string;
}

export interface GatewayStateCollectorOptions {
  discovery: Pick<DiscoveryV1Api, "listNamespacedEndpointSlice">;
  service: GatewayServiceRef;
  /** Port serving /admin/state; default: the EndpointSlice port named "admin", else "http", else the first. */
  adminPort?: number;
  intervalMs: number;
  timeoutMs?: number;
  logger: Logger;
  onScrape?: (result: "ok" | "error") => void;
  /** Called with the merged state whenever it differs from the previous one. */
  onChange: (state: MergedGatewayState) => void;
}

export interface GatewayEndpoint {
  address: string;
  port: number;
  pod?: string;
}

const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/** The merged state of one round, with what each ready pod said about the config it serves. */
export interface CollectedGatewayState extends MergedGatewayState {
  /** Ready gateway endpoints found; more than `gateways` when some did not answer. */
  endpoints: number;
  /** The config version each answering pod serves. */
  configVersions: Array<string | null>;
}

/** Ready endpoints of the gateway Service, with the port serving /admin/state. */
export function readyEndpoints(slices: readonly V1EndpointSlice[], adminPort?: number): GatewayEndpoint[] {
  const endpoints: GatewayEndpoint[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    const ports = slice.ports ?? [];
    const port =
      adminPort ??
      ports.find((p) => p.name === "admin")?.port ??
      ports.find((p) => p.name === "http")?.port ??
      ports[0]?.port;
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      // Per the EndpointSlice API, an absent ready condition means ready.
      if (endpoint.conditions?.ready === false || endpoint.conditions?.terminating === true) continue;
      const address = endpoint.addresses?.[0];
      if (!address || seen.has(`${address}:${port}`)) continue;
      seen.add(`${address}:${port}`);
      endpoints.push({ address, port, pod: endpoint.targetRef?.name });
    }
  }
  return endpoints;
}

function stateUrl(endpoint: GatewayEndpoint): string {
  const host = endpoint.address.includes(":") ? `[${endpoint.address}]` : endpoint.address;
  return `http://${host}:${endpoint.port}/admin/state`;
}

/** Comparable form of a merged state (Maps do not serialise). */
function fingerprint(state: MergedGatewayState): string {
  return JSON.stringify({
    gateways: state.gateways,
    configVersion: state.configVersion,
    providers: [...state.providers].map(([id, p]) => [id, { ...p, models: [...p.models] }]),
  });
}

/**
 * Polls GET /admin/state on every ready gateway pod (found through the Service's EndpointSlices)
 * and merges the answers. A pod that does not answer is left out of that round.
 */
export class GatewayStateCollector {
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private running = false;
  private stopped = false;
  current: CollectedGatewayState | undefined;

  constructor(private readonly options: GatewayStateCollectorOptions) {}

  start(): void {
    this.stopped = false;
    const tick = async () => {
      await this.collect();
      if (!this.stopped) {
        this.timer = setTimeout(() => void tick(), this.options.intervalMs);
        this.timer.unref();
      }
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One collection round; returns the merged state (also published through onChange when it changed). */
  async collect(): Promise<CollectedGatewayState | undefined> {
    if (this.running) return this.current;
    this.running = true;
    try {
      const { service, logger } = this.options;
      let slices: V1EndpointSlice[];
      try {
        const list = await this.options.discovery.listNamespacedEndpointSlice({
          namespace: service.namespace,
          labelSelector: `${SERVICE_NAME_LABEL}=${service.name}`,
        });
        slices = list.items;
      } catch (err) {
        logger.warn(
          { service, error: describeKubeError(err) },
          "could not list the gateway Service's EndpointSlices",
        );
        return this.current;
      }
      const endpoints = readyEndpoints(slices, this.options.adminPort);
      const states = (await Promise.all(endpoints.map((endpoint) => this.fetchState(endpoint)))).filter(
        (s): s is GatewayState => s !== undefined,
      );
      const merged: CollectedGatewayState = {
        ...mergeGatewayStates(states),
        endpoints: endpoints.length,
        configVersions: states.map((s) => s.configVersion),
      };
      const print = fingerprint(merged);
      this.current = merged;
      if (print !== this.last) {
        this.last = print;
        this.options.onChange(merged);
      }
      return merged;
    } finally {
      this.running = false;
    }
  }

  private async fetchState(endpoint: GatewayEndpoint): Promise<GatewayState | undefined> {
    const timeoutMs = this.options.timeoutMs ?? 2_000;
    try {
      const response = await request(stateUrl(endpoint), {
        method: "GET",
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw new Error(`HTTP ${response.statusCode}`);
      }
      const state = gatewayStateSchema.parse(await response.body.json());
      this.options.onScrape?.("ok");
      return state;
    } catch (err) {
      this.options.onScrape?.("error");
      this.options.logger.warn(
        {
          gateway: endpoint.pod ?? endpoint.address,
          port: endpoint.port,
          error: (err as Error).message.split("\n")[0],
        },
        "could not read /admin/state from a gateway pod",
      );
      return undefined;
    }
  }
}
