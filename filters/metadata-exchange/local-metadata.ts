// The Struct this proxy sends about itself in x-envoy-peer-metadata: a projection of its node
// metadata (filters.md §1.1, §1.2). Istio 1.8–1.18 sends the FlatNode fields NAME, NAMESPACE,
// OWNER, WORKLOAD_NAME, ISTIO_VERSION, MESH_ID, CLUSTER_ID, LABELS, PLATFORM_METADATA and
// APP_CONTAINERS; LABELS keeps only the labels Istio's telemetry reads (the native filter's rule)
// plus the configured additional labels. Pure code: no host imports.
import { JsonType, JsonValue, base64Encode, encodeStruct } from "proxy-wasm-as";

/** Node metadata keys sent as strings. */
const STRING_KEYS: string[] = [
  "NAME", "NAMESPACE", "OWNER", "WORKLOAD_NAME", "ISTIO_VERSION", "MESH_ID", "CLUSTER_ID", "APP_CONTAINERS",
];

/** Labels Istio sends whatever the configuration says (filters.md §1.1). */
export const ISTIO_LABELS: string[] = [
  "service.istio.io/canonical-name", "service.istio.io/canonical-revision", "app", "version",
];

/**
 * The Struct to send, from node metadata. Values of the wrong type are left out and described in
 * `warnings` (Istio would send them as empty strings, which telemetry cannot tell from a real one).
 */
export function localPeerMetadata(nodeMetadata: JsonValue, additionalLabels: string[], warnings: string[]): JsonValue {
  const out = JsonValue.newObject();
  copyStrings(nodeMetadata, STRING_KEYS, "", out, warnings);
  const labels = objectMember(nodeMetadata, "LABELS", warnings);
  if (labels !== null) {
    const kept = JsonValue.newObject();
    copyStrings(labels, ISTIO_LABELS, "LABELS", kept, warnings);
    copyStrings(labels, additionalLabels, "LABELS", kept, warnings);
    if (kept.length > 0) out.set("LABELS", kept);
  }
  const platform = objectMember(nodeMetadata, "PLATFORM_METADATA", warnings);
  if (platform !== null) {
    const kept = JsonValue.newObject();
    copyStrings(platform, platform.keys(), "PLATFORM_METADATA", kept, warnings);
    if (kept.length > 0) out.set("PLATFORM_METADATA", kept);
  }
  return out;
}

/** The object `key` of node metadata; null if absent or (with a warning) not an object. */
function objectMember(nodeMetadata: JsonValue, key: string, warnings: string[]): JsonValue | null {
  const value = nodeMetadata.get(key);
  if (value === null || value.type == JsonType.Object) return value;
  warnings.push(wrongType(key, value, "an object"));
  return null;
}

/**
 * Copies the string members `names` of `from` (node metadata, or its object `where`) into `to`;
 * other types become warnings.
 */
function copyStrings(from: JsonValue, names: string[], where: string, to: JsonValue, warnings: string[]): void {
  for (let i = 0, n = names.length; i < n; i++) {
    const name = unchecked(names[i]);
    const value = from.get(name);
    if (value === null) continue;
    if (value.type == JsonType.String) to.set(name, value);
    else warnings.push(wrongType(where.length > 0 ? where + "[\"" + name + "\"]" : name, value, "a string"));
  }
}

function wrongType(where: string, value: JsonValue, expected: string): string {
  return "node metadata " + where + " is " + value.typeName() + ", expected " + expected + ": not sent";
}

/**
 * The x-envoy-peer-metadata value: standard base64, padded, of the Struct serialized with sorted
 * keys (Istio serializes deterministically, so equal metadata gives byte-identical headers).
 * Empty when there is nothing to send.
 */
export function peerMetadataHeaderValue(metadata: JsonValue): string {
  const bytes = encodeStruct(metadata);
  return bytes === null ? "" : base64Encode(bytes);
}
