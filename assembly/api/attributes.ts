// Typed getters for well-known Envoy attributes (proxy-wasm-abi.md §7.2; filters.md §0).
// The xDS attributes moved under `xds.*` (Envoy PR #31365) and the old top-level names were
// removed in Envoy 1.33 (PR #36619): these helpers ask for `xds.*` first and fall back to the
// legacy name for older Envoys (filters.md §0 "try xds.* first"). Once a legacy name has answered
// where `xds.*` did not, the VM is on an old Envoy and later lookups go to the legacy name first.
import { WasmResult } from "../abi/enums";
import { JsonValue } from "../codec/json";
import { NodeInfo, decodeFilterMetadata, decodeNode } from "../codec/node";
import { BoolValue, Int64Value, Uint64Value } from "../codec/values";
import { lastWasmResult } from "../runtime/state";
import { fetchJoinedProperty, fixed8, takeFixed8 } from "../runtime/property-fetch";
import { takeBytes, takeString } from "../runtime/memory";
import { getProperty, getPropertyBool, getPropertyInt64, getPropertyString, getPropertyUint64 } from "./properties";

let legacyXds = false;

/** Raw value of `xds.<name>`, falling back to the pre-1.33 top-level `legacyName`. */
export function getXdsAttribute(name: string, legacyName: string): ArrayBuffer | null {
  return xdsBytes("xds\0" + name, legacyName);
}

/**
 * Asks for xds.<name> and the legacy name in the order this VM has learnt (see the file comment),
 * leaving the value in the out slots. The paths are "\0"-joined constants: no path array per call.
 */
function fetchXds(xdsPath: string, legacyPath: string): bool {
  if (fetchJoinedProperty(legacyXds ? legacyPath : xdsPath)) return true;
  if (lastWasmResult() != WasmResult.NotFound) return false;
  const found = fetchJoinedProperty(legacyXds ? xdsPath : legacyPath);
  // The legacy name answered where xds.* did not: an old Envoy (see the file comment).
  if (found && !legacyXds) legacyXds = true;
  return found;
}

function xdsBytes(xdsPath: string, legacyPath: string): ArrayBuffer | null {
  return fetchXds(xdsPath, legacyPath) ? takeBytes() : null;
}

function xdsString(xdsPath: string, legacyPath: string): string | null {
  return fetchXds(xdsPath, legacyPath) ? takeString() : null;
}

// ---- configuration (xds.*) ----

/** Serialized envoy.config.core.v3.Node of this Envoy. */
export function getNodeBytes(): ArrayBuffer | null {
  return xdsBytes("xds\0node", "node");
}

/** This Envoy's node (id, cluster, metadata); null if unavailable or malformed. */
export function getNode(): NodeInfo | null {
  const bytes = getNodeBytes();
  return bytes === null ? null : decodeNode(bytes);
}

/** Node metadata (a Struct as an object); null if unavailable. */
export function getNodeMetadata(): JsonValue | null {
  const node = getNode();
  return node === null ? null : node.metadata;
}

export function getClusterName(): string | null {
  return xdsString("xds\0cluster_name", "cluster_name");
}
export function getRouteName(): string | null {
  return xdsString("xds\0route_name", "route_name");
}
/** The route name as the host sent it (UTF-8 bytes), for filters that compare or hash it per request. */
export function getRouteNameBytes(): ArrayBuffer | null {
  return xdsBytes("xds\0route_name", "route_name");
}
/** xds only: there is no legacy name. */
export function getVirtualHostName(): string | null {
  return getPropertyString(["xds", "virtual_host_name"]);
}
/** xds only: there is no legacy name. */
export function getFilterChainName(): string | null {
  return getPropertyString(["xds", "filter_chain_name"]);
}

/** envoy.config.core.v3.TrafficDirection: 0 unspecified, 1 inbound, 2 outbound. Read it per request (filters.md §0). */
export function getListenerDirection(): Int64Value | null {
  const v = getTrafficDirection();
  return lastWasmResult() == WasmResult.Ok ? new Int64Value(v) : null;
}

/** getListenerDirection without allocation: 0 (UNSPECIFIED) when the host does not say. */
export function getTrafficDirection(): i64 {
  return fetchXds("xds\0listener_direction", "listener_direction") && takeFixed8() ? <i64>fixed8 : 0;
}

/** Serialized envoy.config.core.v3.Metadata of the cluster, route, listener or upstream host. */
export function getClusterMetadataBytes(): ArrayBuffer | null {
  return xdsBytes("xds\0cluster_metadata", "cluster_metadata");
}
export function getRouteMetadataBytes(): ArrayBuffer | null {
  return xdsBytes("xds\0route_metadata", "route_metadata");
}
export function getListenerMetadataBytes(): ArrayBuffer | null {
  return xdsBytes("xds\0listener_metadata", "listener_metadata");
}
export function getUpstreamHostMetadataBytes(): ArrayBuffer | null {
  return xdsBytes("xds\0upstream_host_metadata", "upstream_host_metadata");
}

/** The `filterName` Struct (e.g. "istio") of serialized Metadata from the getters above. */
export function getFilterMetadata(metadata: ArrayBuffer | null, filterName: string): JsonValue | null {
  return metadata === null ? null : decodeFilterMetadata(metadata, filterName);
}

// ---- plugin ----

export function getPluginName(): string | null {
  return getPropertyString(["plugin_name"]);
}
export function getPluginRootId(): string | null {
  return getPropertyString(["plugin_root_id"]);
}
export function getPluginVmId(): string | null {
  return getPropertyString(["plugin_vm_id"]);
}

// ---- request (HTTP) ----

export function getRequestPath(): string | null {
  return getPropertyString(["request", "path"]);
}
export function getRequestUrlPath(): string | null {
  return getPropertyString(["request", "url_path"]);
}
export function getRequestHost(): string | null {
  return getPropertyString(["request", "host"]);
}
export function getRequestScheme(): string | null {
  return getPropertyString(["request", "scheme"]);
}
export function getRequestMethod(): string | null {
  return getPropertyString(["request", "method"]);
}
export function getRequestId(): string | null {
  return getPropertyString(["request", "id"]);
}
/** "HTTP/1.1", "HTTP/2", ... */
export function getRequestProtocol(): string | null {
  return getPropertyString(["request", "protocol"]);
}
export function getRequestQuery(): string | null {
  return getPropertyString(["request", "query"]);
}
/** Request start, ns since the epoch. */
export function getRequestTime(): Int64Value | null {
  return getPropertyInt64(["request", "time"]);
}
/** Total duration in ns (after completion, e.g. in onLog). */
export function getRequestDuration(): Int64Value | null {
  return getPropertyInt64(["request", "duration"]);
}
export function getRequestSize(): Int64Value | null {
  return getPropertyInt64(["request", "size"]);
}
export function getRequestTotalSize(): Int64Value | null {
  return getPropertyInt64(["request", "total_size"]);
}

// ---- response (after completion / in onLog) ----

export function getResponseCode(): Int64Value | null {
  return getPropertyInt64(["response", "code"]);
}
export function getResponseCodeDetails(): string | null {
  return getPropertyString(["response", "code_details"]);
}
export function getResponseFlags(): Int64Value | null {
  return getPropertyInt64(["response", "flags"]);
}
export function getResponseGrpcStatus(): Int64Value | null {
  return getPropertyInt64(["response", "grpc_status"]);
}
export function getResponseSize(): Int64Value | null {
  return getPropertyInt64(["response", "size"]);
}
export function getResponseTotalSize(): Int64Value | null {
  return getPropertyInt64(["response", "total_size"]);
}

// ---- connection ----

/** "ip:port" of the downstream peer. */
export function getSourceAddress(): string | null {
  return getPropertyString(["source", "address"]);
}
export function getSourcePort(): Int64Value | null {
  return getPropertyInt64(["source", "port"]);
}
export function getDestinationAddress(): string | null {
  return getPropertyString(["destination", "address"]);
}
export function getDestinationPort(): Int64Value | null {
  return getPropertyInt64(["destination", "port"]);
}
export function getConnectionId(): Uint64Value | null {
  return getPropertyUint64(["connection", "id"]);
}
export function getConnectionMtls(): BoolValue | null {
  return getPropertyBool(["connection", "mtls"]);
}
export function getConnectionRequestedServerName(): string | null {
  return getPropertyString(["connection", "requested_server_name"]);
}
export function getConnectionTlsVersion(): string | null {
  return getPropertyString(["connection", "tls_version"]);
}
export function getConnectionUriSanPeerCertificate(): string | null {
  return getPropertyString(["connection", "uri_san_peer_certificate"]);
}
export function getConnectionUriSanLocalCertificate(): string | null {
  return getPropertyString(["connection", "uri_san_local_certificate"]);
}

// ---- upstream ----

export function getUpstreamAddress(): string | null {
  return getPropertyString(["upstream", "address"]);
}
export function getUpstreamPort(): Int64Value | null {
  return getPropertyInt64(["upstream", "port"]);
}
export function getUpstreamRequestAttemptCount(): Uint64Value | null {
  return getPropertyUint64(["upstream", "request_attempt_count"]);
}
export function getUpstreamTransportFailureReason(): string | null {
  return getPropertyString(["upstream", "transport_failure_reason"]);
}
