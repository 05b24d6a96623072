// Shared by the metadata-exchange tests: the module, Istio-shaped nodes (istio-agent's node
// metadata, filters.md §1.2), the expected projection of a node onto the exchanged Struct, and an
// independent Struct codec (protobufjs with Envoy's protos, not the SDK's).
import { Buffer } from "node:buffer";
import { decodeToObject, encodeJson } from "../../../host/envoy/protos.js";
import { Emulator, type EmulatedPlugin, type EmulatorOptions } from "../../../host/emulator/index.js";
import type { NodeInfo } from "../../../host/envoy/server-context.js";
import { modulePath } from "../../support/modules.js";

export const PEER_METADATA = "x-envoy-peer-metadata";
export const PEER_ID = "x-envoy-peer-metadata-id";
export const INBOUND = 1;
export const OUTBOUND = 2;

export const mxModule = (): Promise<string> => modulePath("metadata-exchange");

type Json = Record<string, unknown>;

/** A sidecar node as istio-agent describes it, including keys the exchange does not send. */
export function istioNode(workload: string, namespace: string, ip: string, extra: { labels?: Json; metadata?: Json } = {}): NodeInfo {
  const pod = `${workload}-6b746f74dc-9stvs`;
  return {
    id: `sidecar~${ip}~${pod}.${namespace}~${namespace}.svc.cluster.local`,
    cluster: `${workload}.${namespace}`,
    metadata: {
      NAME: pod,
      NAMESPACE: namespace,
      OWNER: `kubernetes://apis/apps/v1/namespaces/${namespace}/deployments/${workload}`,
      WORKLOAD_NAME: workload,
      ISTIO_VERSION: "1.18.2",
      MESH_ID: "cluster.local",
      CLUSTER_ID: "Kubernetes",
      APP_CONTAINERS: `${workload.split("-")[0]},log-shipper`,
      LABELS: {
        app: workload.split("-")[0],
        version: "v1",
        "pod-template-hash": "6b746f74dc",
        "security.istio.io/tlsMode": "istio",
        "service.istio.io/canonical-name": workload.split("-")[0],
        "service.istio.io/canonical-revision": "v1",
        ...extra.labels,
      },
      PLATFORM_METADATA: { gcp_project: "bookinfo-prod", gcp_location: "us-east1", gcp_gke_cluster_name: "mesh-1" },
      INSTANCE_IPS: ip,
      SERVICE_ACCOUNT: `bookinfo-${workload}`,
      INTERCEPTION_MODE: "REDIRECT",
      PROXY_CONFIG: { concurrency: 2, discoveryAddress: "istiod.istio-system.svc:15012" },
      ...extra.metadata,
    },
  };
}

const exchangedStrings = ["NAME", "NAMESPACE", "OWNER", "WORKLOAD_NAME", "ISTIO_VERSION", "MESH_ID", "CLUSTER_ID", "APP_CONTAINERS"];
const istioLabels = ["service.istio.io/canonical-name", "service.istio.io/canonical-revision", "app", "version"];

/** What the filter should send for `node` (filters.md §1.1), written independently of the filter. */
export function expectedPeerStruct(node: NodeInfo, additionalLabels: string[] = []): Json {
  const m = node.metadata as Json;
  const out: Json = {};
  for (const k of exchangedStrings) if (typeof m[k] === "string") out[k] = m[k];
  const labels = (m.LABELS ?? {}) as Json;
  const kept: Json = {};
  for (const k of [...istioLabels, ...additionalLabels]) if (typeof labels[k] === "string") kept[k] = labels[k];
  if (Object.keys(kept).length) out.LABELS = kept;
  if (m.PLATFORM_METADATA) out.PLATFORM_METADATA = m.PLATFORM_METADATA;
  return out;
}

/** Keys sorted at every level: protobufjs then writes map entries in protobuf's deterministic order. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Json)[k])]));
  return v;
}

/** google.protobuf.Struct bytes of `json` by protobufjs; `deterministic` sorts the map entries. */
export function encodeStruct(json: Json, deterministic = true): Buffer {
  return Buffer.from(encodeJson("google.protobuf.Struct", deterministic ? sortKeys(json) : json));
}

type ValueObject = { nullValue?: unknown; numberValue?: number; stringValue?: string; boolValue?: boolean; structValue?: { fields?: Record<string, ValueObject> }; listValue?: { values?: ValueObject[] } };

function valueToJson(v: ValueObject): unknown {
  if (v.structValue) return fieldsToJson(v.structValue.fields ?? {});
  if (v.listValue) return (v.listValue.values ?? []).map(valueToJson);
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.numberValue !== undefined) return v.numberValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return null;
}

function fieldsToJson(fields: Record<string, ValueObject>): Json {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, valueToJson(v)]));
}

/** Decodes google.protobuf.Struct bytes with protobufjs into plain JSON. */
export function decodeStruct(bytes: Uint8Array): Json {
  return fieldsToJson((decodeToObject("google.protobuf.Struct", bytes).fields ?? {}) as Record<string, ValueObject>);
}

/** The Struct carried by an x-envoy-peer-metadata value. */
export function decodeHeader(value: string | undefined): Json {
  if (value === undefined) throw new Error(`no ${PEER_METADATA} header`);
  return decodeStruct(Buffer.from(value, "base64"));
}

/** An emulator playing one proxy (its node) with the filter loaded. */
export async function mxProxy(
  node: NodeInfo,
  configuration: string | object = "",
  options: EmulatorOptions & { concurrency?: number } = {},
): Promise<{ emu: Emulator; plugin: EmulatedPlugin }> {
  const emu = new Emulator({ node, ...options });
  const plugin = await emu.loadPlugin({
    wasm: await mxModule(),
    name: "metadata_exchange",
    configuration,
    concurrency: options.concurrency ?? 1,
  });
  return { emu, plugin };
}

export const request = { ":method": "GET", ":path": "/headers", ":authority": "reviews:9080", ":scheme": "http" };

/** Bytes of a filter-state entry (undefined when absent). */
export function stateBytes(state: { bytes: Uint8Array } | undefined): Buffer | undefined {
  return state ? Buffer.from(state.bytes) : undefined;
}
