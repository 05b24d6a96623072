// Envoy's StreamInfo: everything known about one HTTP stream, read by the Wasm host's property
// lookup (proxy-wasm-abi.md §7.2) and by access logging. The proxy fills it as the stream
// progresses; the emulator lets tests set it directly.
import type { HeaderMap } from "./header-map.js";

/** Envoy ResponseFlag bits as exposed by the `response.flags` attribute (filters.md §2.2). */
export enum ResponseFlag {
  FailedLocalHealthCheck = 0x1, // LH
  NoHealthyUpstream = 0x2, // UH
  UpstreamRequestTimeout = 0x4, // UT
  LocalReset = 0x8, // LR
  UpstreamRemoteReset = 0x10, // UR
  UpstreamConnectionFailure = 0x20, // UF
  UpstreamConnectionTermination = 0x40, // UC
  UpstreamOverflow = 0x80, // UO
  NoRouteFound = 0x100, // NR
  DelayInjected = 0x200, // DI
  FaultInjected = 0x400, // FI
  RateLimited = 0x800, // RL
  UnauthorizedExternalService = 0x1000, // UAEX
  RateLimitServiceError = 0x2000, // RLSE
  DownstreamConnectionTermination = 0x4000, // DC
  UpstreamRetryLimitExceeded = 0x8000, // URX
  StreamIdleTimeout = 0x10000, // SI
  InvalidEnvoyRequestHeaders = 0x20000, // IH
  DownstreamProtocolError = 0x40000, // DPE
  UpstreamMaxStreamDurationReached = 0x80000, // UMSDR
  ResponseFromCacheFilter = 0x100000, // RFCF
  NoFilterConfigFound = 0x200000, // NFCF
  DurationTimeout = 0x400000, // DT
  UpstreamProtocolError = 0x800000, // UPE
  NoClusterFound = 0x1000000, // NC
  OverloadManager = 0x2000000, // OM
}

/** A filter-state value written by proxy_set_property (key "wasm.<path>") or another filter. */
export interface FilterStateValue {
  bytes: Uint8Array;
  /** CelState type from declare_property: bytes (default), string, protobuf, flatbuffers. */
  type: "bytes" | "string" | "protobuf" | "flatbuffers";
  readOnly: boolean;
  /** declare_property schema: the type URL of a protobuf-typed value (e.g. a google.protobuf.Struct). */
  schema?: string;
}

export interface Address {
  ip: string;
  port: number;
}

export interface ConnectionInfo {
  id: bigint;
  source: Address;
  destination: Address;
  mtls: boolean;
  requestedServerName?: string;
  tlsVersion?: string;
  uriSanPeerCertificate?: string;
  uriSanLocalCertificate?: string;
  dnsSanPeerCertificate?: string;
  dnsSanLocalCertificate?: string;
  subjectPeerCertificate?: string;
  subjectLocalCertificate?: string;
  sha256PeerCertificateDigest?: string;
  /** connection.termination_details (why the connection was closed, if known). */
  terminationDetails?: string;
  /** connection.transport_failure_reason (downstream TLS handshake failure). */
  transportFailureReason?: string;
}

export interface UpstreamInfo {
  address?: Address;
  localAddress?: Address;
  /** Number of upstream attempts so far (upstream.request_attempt_count). */
  requestAttemptCount: number;
  transportFailureReason?: string;
  uriSanPeerCertificate?: string;
  uriSanLocalCertificate?: string;
  /** Upstream TLS version when the upstream connection uses TLS (upstream.tls_version). */
  tlsVersion?: string;
  /** Endpoint metadata (xds.upstream_host_metadata), as JSON of envoy.config.core.v3.Metadata. */
  hostMetadata?: Record<string, unknown>;
}

export interface StreamInfo {
  /** Wall-clock start in ns since the epoch (request.time). */
  startTimeNs: bigint;
  /** Monotonic start, for request.duration. */
  startMonotonicNs: bigint;
  /** Set when the last downstream byte was sent (request.duration = end - start). */
  completeMonotonicNs?: bigint;
  /** First upstream byte received, for response.backend_latency. */
  upstreamFirstByteMonotonicNs?: bigint;
  /** First byte sent upstream (Envoy firstUpstreamTxByteSent), for response.backend_latency. */
  upstreamRequestSentMonotonicNs?: bigint;
  /** Last upstream byte received (Envoy lastUpstreamRxByteReceived), for response.backend_latency. */
  upstreamLastByteMonotonicNs?: bigint;
  protocol: "HTTP/1.0" | "HTTP/1.1" | "HTTP/2" | "HTTP/3";
  requestId?: string;
  requestHeaders?: HeaderMap;
  responseHeaders?: HeaderMap;
  responseTrailers?: HeaderMap;
  /** Request body bytes received from downstream (request.size). */
  bytesReceived: number;
  /** Response body bytes sent downstream (response.size). */
  bytesSent: number;
  responseCode?: number;
  responseCodeDetails?: string;
  /** Bitmask of ResponseFlag. */
  responseFlags: number;
  connection: ConnectionInfo;
  upstream: UpstreamInfo;
  routeName?: string;
  virtualHostName?: string;
  /** Route and virtual-host metadata (xds.route_metadata / xds.virtual_host_metadata), JSON form. */
  routeMetadata?: Record<string, unknown>;
  virtualHostMetadata?: Record<string, unknown>;
  clusterName?: string;
  clusterMetadata?: Record<string, unknown>;
  /** 0 UNSPECIFIED, 1 INBOUND, 2 OUTBOUND (envoy.config.core.v3.TrafficDirection). */
  listenerDirection: number;
  listenerMetadata?: Record<string, unknown>;
  filterChainName?: string;
  /** Dynamic metadata (the `metadata` attribute), JSON form of envoy.config.core.v3.Metadata. */
  dynamicMetadata: Record<string, unknown>;
  filterState: Map<string, FilterStateValue>;
}

export function newStreamInfo(init: Partial<StreamInfo> & Pick<StreamInfo, "connection">): StreamInfo {
  return {
    startTimeNs: 0n,
    startMonotonicNs: 0n,
    protocol: "HTTP/1.1",
    bytesReceived: 0,
    bytesSent: 0,
    responseFlags: 0,
    upstream: { requestAttemptCount: 0 },
    listenerDirection: 0,
    dynamicMetadata: {},
    filterState: new Map(),
    ...init,
  };
}
