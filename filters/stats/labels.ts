// Istio's standard metric labels and the pure rules that compute their values (filters.md §2.2).
// The order of STANDARD_LABELS is Istio's, and it is the order of the labels in the encoded metric
// name. Pure code: no host calls, so every rule has an as-pect test (__tests__/labels.spec.ts).

export const REPORTER: i32 = 0;
export const SOURCE_WORKLOAD: i32 = 1;
export const SOURCE_WORKLOAD_NAMESPACE: i32 = 2;
export const SOURCE_PRINCIPAL: i32 = 3;
export const SOURCE_APP: i32 = 4;
export const SOURCE_VERSION: i32 = 5;
export const SOURCE_CANONICAL_SERVICE: i32 = 6;
export const SOURCE_CANONICAL_REVISION: i32 = 7;
export const SOURCE_CLUSTER: i32 = 8;
export const DESTINATION_WORKLOAD: i32 = 9;
export const DESTINATION_WORKLOAD_NAMESPACE: i32 = 10;
export const DESTINATION_PRINCIPAL: i32 = 11;
export const DESTINATION_APP: i32 = 12;
export const DESTINATION_VERSION: i32 = 13;
export const DESTINATION_SERVICE: i32 = 14;
export const DESTINATION_SERVICE_NAME: i32 = 15;
export const DESTINATION_SERVICE_NAMESPACE: i32 = 16;
export const DESTINATION_CANONICAL_SERVICE: i32 = 17;
export const DESTINATION_CANONICAL_REVISION: i32 = 18;
export const DESTINATION_CLUSTER: i32 = 19;
export const REQUEST_PROTOCOL: i32 = 20;
export const RESPONSE_FLAGS: i32 = 21;
export const CONNECTION_SECURITY_POLICY: i32 = 22;
export const RESPONSE_CODE: i32 = 23;
export const GRPC_RESPONSE_STATUS: i32 = 24;
export const STANDARD_LABEL_COUNT: i32 = 25;

export const STANDARD_LABELS: string[] = [
  "reporter", "source_workload", "source_workload_namespace", "source_principal", "source_app", "source_version",
  "source_canonical_service", "source_canonical_revision", "source_cluster", "destination_workload",
  "destination_workload_namespace", "destination_principal", "destination_app", "destination_version",
  "destination_service", "destination_service_name", "destination_service_namespace",
  "destination_canonical_service", "destination_canonical_revision", "destination_cluster", "request_protocol",
  "response_flags", "connection_security_policy", "response_code", "grpc_response_status",
];

export const UNKNOWN = "unknown";
/** Canonical revision when the workload has no `service.istio.io/canonical-revision` label. */
export const LATEST = "latest";

/** filters.md §2.2: any empty standard label value becomes `unknown`. */
export function orUnknown(value: string | null): string {
  return value === null || value.length == 0 ? UNKNOWN : value;
}

/** `*_canonical_service`: the canonical-name label, else the workload name, else `unknown`. */
export function canonicalService(label: string | null, workloadName: string | null): string {
  if (label !== null && label.length > 0) return label;
  return orUnknown(workloadName);
}

/** `*_canonical_revision`: the canonical-revision label, else `latest`. */
export function canonicalRevision(label: string | null): string {
  return label === null || label.length == 0 ? LATEST : label;
}

// ---- reporter ----

/** Who reports: Istio's Reporter (native istio_stats.cc ClientSidecar/ServerSidecar/ServerGateway). */
export enum Reporter {
  /** Outbound sidecar or gateway: reporter="source"; local = source, upstream peer = destination. */
  ClientSidecar = 0,
  /** Inbound sidecar: reporter="destination"; downstream peer = source, local = destination. */
  ServerSidecar = 1,
  /** Waypoint: reporter="waypoint"; downstream peer = source, upstream peer = destination. */
  ServerGateway = 2,
}

export function reporterLabel(reporter: Reporter): string {
  if (reporter == Reporter.ServerSidecar) return "destination";
  if (reporter == Reporter.ServerGateway) return "waypoint";
  return "source";
}

/**
 * envoy.config.core.v3.TrafficDirection (xds.listener_direction) → reporter. INBOUND (1) is the
 * server side; OUTBOUND (2) and UNSPECIFIED (0) report as the client, as Istio's filter does
 * when the listener carries no direction (native istio_stats.cc defaults to ClientSidecar).
 */
export function reporterForDirection(direction: i64): Reporter {
  return direction == 1 ? Reporter.ServerSidecar : Reporter.ClientSidecar;
}

/** Istio's Wasm root ids: `stats_inbound` / `stats_outbound` fix the direction; -1 for any other. */
export function reporterForRootId(rootId: string): i32 {
  if (rootId == "stats_inbound") return Reporter.ServerSidecar;
  if (rootId == "stats_outbound") return Reporter.ClientSidecar;
  return -1;
}

// ---- request_protocol ----

/** `grpc` for the gRPC content types Istio recognises (extensions/common kGrpcContentTypes), else `http`. */
export function requestProtocol(contentType: string | null): string {
  if (contentType !== null && (
    contentType == "application/grpc" || contentType == "application/grpc+proto" || contentType == "application/grpc+json"
  )) return "grpc";
  return "http";
}

// ---- response_flags ----

/** Short codes of the Envoy response flag bits, bit i = 1 << i (istio extensions/common/util.cc). */
const FLAG_CODES: string[] = [
  "LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE", "DC", "URX", "SI", "IH", "DPE",
  "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF",
];

/**
 * `response.flags` bitmask → comma-separated short codes, `-` if none. A value with bits beyond the
 * last known flag also gets the whole integer appended, so nothing is lost (istio util.cc).
 */
export function responseFlagsLabel(flags: u64): string {
  if (flags == 0) return "-";
  const parts = new Array<string>();
  const known = FLAG_CODES.length;
  for (let i = 0; i < known; i++) if ((flags >> <u64>i) & 1) parts.push(unchecked(FLAG_CODES[i]));
  if (flags >= (<u64>1 << <u64>known)) parts.push(flags.toString());
  return parts.join(",");
}

// ---- principals and namespaces ----

/**
 * The namespace in a SPIFFE identity `spiffe://<domain>/ns/<namespace>/sa/<account>`, or "" (native
 * istio_stats.cc getNamespace). Used when the peer's metadata carries no NAMESPACE.
 */
export function namespaceFromPrincipal(principal: string | null): string {
  if (principal === null) return "";
  const key = "/ns/";
  const begin = principal.indexOf(key);
  if (begin < 0) return "";
  const start = begin + key.length;
  const end = principal.indexOf("/", start);
  return end < 0 ? principal.substring(start) : principal.substring(start, end);
}

// ---- destination service ----

/** Route names istiod gives the catch-all routes (istio extensions/common/context.cc). */
export const BLACK_HOLE_ROUTE = "block_all";
export const PASSTHROUGH_ROUTE = "allow_any";
export const BLACK_HOLE_CLUSTER = "BlackHoleCluster";
export const PASSTHROUGH_CLUSTER = "PassthroughCluster";

/** destination_service_name of istiod's catch-all routes (block_all, allow_any), else null. */
export function catchAllRouteCluster(routeName: string): string | null {
  if (routeName == BLACK_HOLE_ROUTE) return BLACK_HOLE_CLUSTER;
  return routeName == PASSTHROUGH_ROUTE ? PASSTHROUGH_CLUSTER : null;
}

/** Cluster names reported verbatim as destination_service_name (istio_stats.cc, context.cc). */
export function isPassthroughOrBlackHole(clusterName: string): bool {
  return clusterName == BLACK_HOLE_CLUSTER || clusterName == PASSTHROUGH_CLUSTER ||
    clusterName == "InboundPassthroughCluster" || clusterName == "InboundPassthroughClusterIpv4" ||
    clusterName == "InboundPassthroughClusterIpv6";
}

/** The short name of a service host ("reviews.default.svc.cluster.local" → "reviews"), as istio_stats.cc. */
export function serviceNameFromHost(host: string): string {
  const dot = host.indexOf(".");
  return dot < 0 ? host : host.substring(0, dot);
}

// ---- endpoint metadata ----

/**
 * Istio's endpoint telemetry encoding in `filter_metadata.istio.workload`:
 * `workload;namespace;canonical_service;canonical_revision;cluster_id` (filters.md §1.3; the
 * cluster part may be missing). Returns the five parts, or null if there are fewer than four.
 */
export function splitEndpointWorkload(encoded: string): string[] | null {
  const parts = splitOn(encoded, ";");
  if (parts.length < 4) return null;
  if (parts.length == 4) parts.push("");
  return parts;
}

/** Splits `text` at every occurrence of `separator` (non-empty). */
export function splitOn(text: string, separator: string): string[] {
  const out = new Array<string>();
  let start = 0;
  for (let at = text.indexOf(separator); at >= 0; at = text.indexOf(separator, start)) {
    out.push(text.substring(start, at));
    start = at + separator.length;
  }
  out.push(text.substring(start));
  return out;
}
