// The metadata-exchange wire format (filters.md §1.1): x-envoy-peer-metadata is standard base64 of
// a serialized google.protobuf.Struct, x-envoy-peer-metadata-id the node id. Encoded and decoded
// here with protobufjs and Envoy's protos, independently of the filter's own codec.
import { Buffer } from "node:buffer";
import { decodeToObject, encodeJson } from "../../host/envoy/protos.js";
import type { Json } from "./shipped.js";

export const PEER_METADATA = "x-envoy-peer-metadata";
export const PEER_ID = "x-envoy-peer-metadata-id";

/** The request headers a mesh peer (another sidecar) sends for `metadata`. */
export function peerHeaders(id: string, metadata: Json): Record<string, string> {
  return { [PEER_METADATA]: Buffer.from(encodeJson("google.protobuf.Struct", metadata)).toString("base64"), [PEER_ID]: id };
}

type Value = { stringValue?: string; numberValue?: number; boolValue?: boolean; structValue?: { fields?: Record<string, Value> } };

function plain(v: Value): unknown {
  if (v.structValue) return fromFields(v.structValue.fields ?? {});
  return v.stringValue ?? v.numberValue ?? v.boolValue;
}

function fromFields(fields: Record<string, Value>): Json {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, plain(v)]));
}

/** The Struct carried in an x-envoy-peer-metadata value, as plain JSON. */
export function decodePeerMetadata(value: string): Json {
  const struct = decodeToObject("google.protobuf.Struct", Buffer.from(value, "base64")) as { fields?: Record<string, Value> };
  return fromFields(struct.fields ?? {});
}

/** A client sidecar in the mesh (what istio-agent puts in its node metadata, filters.md §1.2). */
export const sleepPeer = {
  id: "sidecar~10.0.0.21~sleep-7b9f8bfcd-2djx8.default~default.svc.cluster.local",
  metadata: {
    NAME: "sleep-7b9f8bfcd-2djx8",
    NAMESPACE: "default",
    WORKLOAD_NAME: "sleep",
    CLUSTER_ID: "Kubernetes",
    MESH_ID: "cluster.local",
    ISTIO_VERSION: "1.26.2",
    LABELS: { app: "sleep", version: "v1", "service.istio.io/canonical-name": "sleep", "service.istio.io/canonical-revision": "v1" },
  },
};
