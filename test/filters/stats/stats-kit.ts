// Shared by the stats filter tests: Istio-shaped nodes and peers, the module loaded in the
// emulator, one request driven through it, and the emitted metrics read back by decoding their
// names the way Envoy's stats_tags regexes `(<label>=\.=(.*?);\.;)` do (filters.md §2.4).
import { Buffer } from "node:buffer";
import { encodeJson } from "../../../host/envoy/protos.js";
import { Emulator, type EmulatedPlugin, type EmulatedStream, type EmulatorOptions } from "../../../host/emulator/index.js";
import type { NodeInfo } from "../../../host/envoy/server-context.js";
import type { ConnectionInfo, FilterStateValue, StreamInfo } from "../../../host/http/stream-info.js";
import { modulePath } from "../../support/modules.js";

export const INBOUND = 1;
export const OUTBOUND = 2;

/** The 25 standard labels in Istio's order (filters.md §2.2), written independently of the filter. */
export const STANDARD_LABELS = [
  "reporter", "source_workload", "source_workload_namespace", "source_principal", "source_app", "source_version",
  "source_canonical_service", "source_canonical_revision", "source_cluster", "destination_workload",
  "destination_workload_namespace", "destination_principal", "destination_app", "destination_version",
  "destination_service", "destination_service_name", "destination_service_namespace",
  "destination_canonical_service", "destination_canonical_revision", "destination_cluster", "request_protocol",
  "response_flags", "connection_security_policy", "response_code", "grpc_response_status",
];

type Json = Record<string, unknown>;

/** Istio node metadata of a workload (istio-agent's keys, filters.md §1.2). */
export function workloadMetadata(workload: string, namespace: string, labels: Json = {}, extra: Json = {}): Json {
  const app = workload.split("-")[0]!;
  return {
    NAME: `${workload}-6b746f74dc-9stvs`,
    NAMESPACE: namespace,
    WORKLOAD_NAME: workload,
    CLUSTER_ID: "Kubernetes",
    ISTIO_VERSION: "1.18.2",
    MESH_ID: "cluster.local",
    LABELS: {
      app,
      version: "v1",
      "service.istio.io/canonical-name": app,
      "service.istio.io/canonical-revision": "v1",
      ...labels,
    },
    ...extra,
  };
}

export function istioNode(workload: string, namespace: string, labels: Json = {}, extra: Json = {}): NodeInfo {
  return {
    id: `sidecar~10.0.0.1~${workload}-6b746f74dc-9stvs.${namespace}~${namespace}.svc.cluster.local`,
    cluster: `${workload}.${namespace}`,
    metadata: workloadMetadata(workload, namespace, labels, extra),
  };
}

/** google.protobuf.Struct bytes, encoded by protobufjs (not by the SDK), as the exchange stores them. */
export function encodeStruct(json: Json): Buffer {
  return Buffer.from(encodeJson("google.protobuf.Struct", json));
}

/** Filter state written by proxy_set_property: `wasm.<name>` as bytes (proxy-wasm-abi.md §2.3). */
export function peerState(entries: Record<string, Json | Buffer>): Map<string, FilterStateValue> {
  const state = new Map<string, FilterStateValue>();
  for (const [name, value] of Object.entries(entries)) {
    const bytes = Buffer.isBuffer(value) ? value : encodeStruct(value);
    state.set(`wasm.${name}`, { bytes, type: "bytes", readOnly: false });
  }
  return state;
}

export const statsModule = (): Promise<string> => modulePath("stats");

export interface StatsSetup {
  node?: NodeInfo;
  configuration?: Json | string;
  rootId?: string;
  concurrency?: number;
  emulator?: EmulatorOptions;
}

/** An emulator with the stats plugin loaded (configure must succeed). */
export async function loadStats(setup: StatsSetup = {}): Promise<{ emu: Emulator; plugin: EmulatedPlugin }> {
  const emu = new Emulator({ node: setup.node ?? istioNode("reviews-v2", "default"), ...setup.emulator });
  const plugin = await emu.loadPlugin({
    wasm: await statsModule(),
    name: "stats",
    rootId: setup.rootId ?? "",
    configuration: setup.configuration ?? "",
    concurrency: setup.concurrency ?? 1,
  });
  return { emu, plugin };
}

export interface Exchange {
  request?: Record<string, string>;
  requestBody?: string;
  response?: { status: number; headers?: Record<string, string>; body?: string; trailers?: Record<string, string> };
  streamInfo?: Partial<Omit<StreamInfo, "connection">>;
  connection?: Partial<ConnectionInfo>;
}

export const defaultRequest = { ":method": "GET", ":path": "/status/200", ":authority": "reviews.default.svc.cluster.local:9080", ":scheme": "http" };

/** One request through the emulator, answered by the test as the upstream, then logged. */
export function exchange(emu: Emulator, x: Exchange = {}): EmulatedStream {
  const s = emu.newStream({ streamInfo: x.streamInfo, connection: x.connection });
  const body = x.requestBody;
  s.sendRequestHeaders(x.request ?? defaultRequest, { endStream: body === undefined });
  if (body !== undefined) s.sendRequestBody(body, { endStream: true });
  s.respond(x.response ?? { status: 200, body: "ok" });
  s.complete();
  return s;
}

export interface Series {
  /** Full stat name without "wasmcustom.". */
  name: string;
  /** Name left once every tag is cut out, e.g. "istio_requests_total". */
  metric: string;
  labels: Record<string, string>;
  /** Tag names in the order they appear in the name. */
  order: string[];
}

/**
 * Cuts `<tag><vsep><value><fsep>` groups off the front of a name, as the bootstrap regexes
 * `(<tag>=\.=(.*?);\.;)` do for each configured tag.
 */
export function decodeName(full: string, valueSeparator = "=.=", fieldSeparator = ";.;"): Series {
  const name = full.startsWith("wasmcustom.") ? full.slice("wasmcustom.".length) : full;
  const labels: Record<string, string> = {};
  const order: string[] = [];
  let rest = name;
  for (;;) {
    const v = rest.indexOf(valueSeparator);
    const f = rest.indexOf(fieldSeparator);
    if (v < 0 || f < 0 || v > f) break;
    const tag = rest.slice(0, v);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(tag)) break;
    labels[tag] = rest.slice(v + valueSeparator.length, f);
    order.push(tag);
    rest = rest.slice(f + fieldSeparator.length);
  }
  return { name, metric: rest, labels, order };
}

/** Every counter of `metric` (e.g. "istio_requests_total") with its labels and value. */
export function counters(emu: Emulator, metric: string, separators?: [string, string]): Array<Series & { value: bigint }> {
  return emu.stats
    .counters()
    .map((c) => ({ ...decodeName(c.name, ...(separators ?? [])), value: c.value }))
    .filter((s) => s.metric === metric);
}

export function histograms(emu: Emulator, metric: string): Array<Series & { count: number; sum: number }> {
  return emu.stats
    .histograms()
    .map((h) => ({ ...decodeName(h.name), count: h.count, sum: h.sum }))
    .filter((s) => s.metric === metric);
}

/** The labels of the only istio_requests_total series (fails if there is not exactly one). */
export function onlyRequestLabels(emu: Emulator): Record<string, string> {
  const series = counters(emu, "istio_requests_total");
  if (series.length !== 1) throw new Error(`expected one istio_requests_total series, got ${series.length}: ${series.map((s) => s.name).join("\n")}`);
  return series[0]!.labels;
}

/** Loads the plugin, sends one request, returns the labels it was counted under. */
export async function labelsOf(setup: StatsSetup, x: Exchange = {}): Promise<Record<string, string>> {
  const { emu } = await loadStats(setup);
  exchange(emu, x);
  return onlyRequestLabels(emu);
}

/** The configure-time failure: the error log lines of a plugin that must fail to load. */
export async function configureError(configuration: Json | string, setup: StatsSetup = {}): Promise<string[]> {
  const emu = new Emulator({ node: setup.node ?? istioNode("reviews-v2", "default"), ...setup.emulator });
  let loaded = true;
  try {
    await emu.loadPlugin({ wasm: await statsModule(), name: "stats", rootId: setup.rootId ?? "", configuration, concurrency: 1 });
  } catch {
    loaded = false;
  }
  if (loaded) throw new Error(`configuration was accepted: ${JSON.stringify(configuration)}`);
  return emu.logs("error");
}
