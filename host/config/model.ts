// The typed view of a validated bootstrap that the proxy runs from. Built by host/config from
// canonical JSON; every value already has Envoy's default applied.
import type { NodeInfo } from "../envoy/server-context.js";
import type { HeaderValueTemplate } from "./header-format.js";

export interface SocketAddr {
  address: string;
  port: number;
}

export interface BootstrapModel {
  node: NodeInfo;
  admin?: { address: SocketAddr };
  listeners: ListenerModel[];
  clusters: ClusterModel[];
  stats: StatsConfigModel;
}

export interface StatsConfigModel {
  tags: TagSpecifierModel[];
  useAllDefaultTags: boolean;
  /** stats_config.histogram_bucket_settings (prefix matchers), first match wins. */
  histogramBuckets: Array<{ prefix: string; buckets: number[] }>;
}

export type TagSpecifierModel = { name: string; regex?: string; fixedValue?: string };

export interface ListenerModel {
  name: string;
  address: SocketAddr;
  /** Listener.stat_prefix: listener.<stat_prefix>. instead of listener.<address>_<port>. */
  statPrefix?: string;
  /** envoy.config.core.v3.TrafficDirection: 0 UNSPECIFIED, 1 INBOUND, 2 OUTBOUND. */
  trafficDirection: number;
  metadata?: Record<string, unknown>;
  filterChainName: string;
  /** Envoy's per_connection_buffer_limit_bytes (default 1 MiB): the router's retry buffer limit. */
  bufferLimitBytes: number;
  hcm: HcmModel;
}

export interface HcmModel {
  statPrefix: string;
  useRemoteAddress: boolean;
  xffNumTrustedHops: number;
  skipXffAppend: boolean;
  /** undefined: Envoy's default (no address is internal, Envoy ≥1.33). */
  internalAddress?: { unixSockets: boolean; cidrRanges: Array<{ prefix: string; length: number }> };
  generateRequestId: boolean;
  preserveExternalRequestId: boolean;
  alwaysSetRequestIdInResponse: boolean;
  serverName: string;
  serverHeaderTransformation: "OVERWRITE" | "APPEND_IF_ABSENT" | "PASS_THROUGH";
  routeConfig: RouteConfigModel;
  httpFilters: HttpFilterModel[];
}

export type HttpFilterModel =
  | { kind: "wasm"; name: string; path: string; plugin: WasmPluginModel }
  | { kind: "router"; name: string; suppressEnvoyHeaders: boolean };

export interface WasmPluginModel {
  name: string;
  rootId: string;
  vmId: string;
  runtime: string;
  /** vm_config.code.local: a file to read, or inline bytes. */
  code: { filename: string } | { bytes: Uint8Array };
  /** PLUGIN_CONFIGURATION bytes (proxy-wasm-abi.md §5.4: StringValue/BytesValue raw, Struct as JSON). */
  configuration: Uint8Array;
  vmConfiguration: Uint8Array;
  environment: Record<string, string>;
  failurePolicy: "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";
  allowOnHeadersStopIteration?: boolean;
  /** JSON path of the PluginConfig, for errors. */
  path: string;
}

export interface RouteConfigModel {
  name: string;
  virtualHosts: VirtualHostModel[];
  internalOnlyHeaders: string[];
  headers: HeaderMutationModel;
}

export interface HeaderMutationModel {
  requestHeadersToAdd: HeaderValueOptionModel[];
  requestHeadersToRemove: string[];
  responseHeadersToAdd: HeaderValueOptionModel[];
  responseHeadersToRemove: string[];
}

export interface HeaderValueOptionModel {
  key: string;
  value: HeaderValueTemplate;
  appendAction: "APPEND_IF_EXISTS_OR_ADD" | "ADD_IF_ABSENT" | "OVERWRITE_IF_EXISTS_OR_ADD" | "OVERWRITE_IF_EXISTS";
  keepEmptyValue: boolean;
}

export interface VirtualHostModel {
  name: string;
  domains: string[];
  routes: RouteModel[];
  includeRequestAttemptCount: boolean;
  includeAttemptCountInResponse: boolean;
  retryPolicy?: RetryPolicyModel;
  metadata?: Record<string, unknown>;
  headers: HeaderMutationModel;
}

export interface RouteModel {
  name: string;
  match: RouteMatchModel;
  action: RouteActionModel | DirectResponseModel;
  metadata?: Record<string, unknown>;
  headers: HeaderMutationModel;
}

export interface RouteMatchModel {
  path: { kind: "prefix" | "path"; value: string } | { kind: "safe_regex"; regex: RegExp };
  caseSensitive: boolean;
  headers: HeaderMatcherModel[];
}

export interface HeaderMatcherModel {
  name: string;
  invert: boolean;
  treatMissingAsEmpty: boolean;
  match: { kind: "present"; present: boolean } | { kind: "string"; matcher: StringMatcherModel };
}

export type StringMatcherModel =
  | { kind: "exact" | "prefix" | "suffix" | "contains"; value: string; ignoreCase: boolean }
  | { kind: "safe_regex"; regex: RegExp };

export interface RouteActionModel {
  kind: "route";
  cluster: string;
  /** Route timeout in ms; 0 disables it. Envoy's default is 15 s. */
  timeoutMs: number;
  retryPolicy?: RetryPolicyModel;
  hostRewriteLiteral?: string;
  autoHostRewrite: boolean;
  prefixRewrite?: string;
}

export interface DirectResponseModel {
  kind: "direct_response";
  status: number;
  body?: Buffer;
}

export interface RetryPolicyModel {
  retryOn: string;
  numRetries: number;
  perTryTimeoutMs: number;
  retriableStatusCodes: number[];
  baseIntervalMs?: number;
  maxIntervalMs?: number;
  previousHosts: boolean;
  hostSelectionMaxAttempts: number;
}

export interface ClusterModel {
  name: string;
  type: "STATIC" | "STRICT_DNS" | "LOGICAL_DNS";
  connectTimeoutMs: number;
  dnsLookupFamily: "AUTO" | "V4_ONLY" | "V6_ONLY" | "V4_PREFERRED" | "ALL";
  dnsRefreshRateMs: number;
  endpoints: EndpointModel[];
  metadata?: Record<string, unknown>;
  bufferLimitBytes: number;
  /** The upstream protocol: HTTP/2 when http2_protocol_options is configured, else HTTP/1.1. */
  http2: boolean;
}

export interface EndpointModel {
  address: string;
  port: number;
  /** Endpoint.hostname; for DNS clusters the DNS name (what auto_host_rewrite uses). */
  hostname: string;
  metadata?: Record<string, unknown>;
  locality?: { region?: string; zone?: string; sub_zone?: string };
}
