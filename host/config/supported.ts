// The part of Envoy's v3 API the local proxy implements. Valid Envoy config outside it is refused
// with "not supported by the local proxy" and its JSON path, never silently ignored: a config that
// works here must mean the same thing in Envoy. The table is keyed by message type, so a field is
// accepted wherever its message appears.
import protobuf from "protobufjs";
import { joinPath, notSupported } from "./errors.js";
import { anyType, fullName, isOpaque, type JsonObject } from "./proto-json.js";

/** true: accepted and checked recursively; "opaque": accepted as is; a function may refuse values. */
type FieldRule = true | "opaque" | ((value: unknown, path: string) => void);

const oneOf =
  (...allowed: string[]): FieldRule =>
  (value, path) => {
    if (!allowed.includes(String(value))) throw notSupported(path, `value ${JSON.stringify(value)}; supported: ${allowed.join(", ")}`);
  };

const anyOf =
  (...typeNames: string[]) =>
  (value: unknown, path: string): void => {
    const t = anyType(value as JsonObject);
    if (!t || !typeNames.includes(fullName(t))) {
      throw notSupported(joinPath(path, "@type"), `type ${JSON.stringify((value as JsonObject)["@type"])}; supported: ${typeNames.join(", ")}`);
    }
  };

const only =
  (expected: unknown, why: string): FieldRule =>
  (value, path) => {
    if (value !== expected) throw notSupported(path, why);
  };

const HCM = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
/** The upstream HTTP protocol options extension; its name is also its message type. */
const HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
const headerMutation = {
  request_headers_to_add: true,
  request_headers_to_remove: true,
  response_headers_to_add: true,
  response_headers_to_remove: true,
} as const;

const supported: Record<string, Record<string, FieldRule>> = {
  "envoy.config.bootstrap.v3.Bootstrap": { node: true, static_resources: true, admin: true, stats_config: true },
  "envoy.config.bootstrap.v3.Bootstrap.StaticResources": { listeners: true, clusters: true },
  "envoy.config.core.v3.Node": { id: true, cluster: true, metadata: true, locality: true },
  "envoy.config.core.v3.Locality": { region: true, zone: true, sub_zone: true },
  "envoy.config.bootstrap.v3.Admin": {
    address: true,
    profile_path: true,
    access_log_path: only("/dev/null", "admin access logs are not written; use /dev/null"),
  },
  "envoy.config.core.v3.Address": { socket_address: true },
  "envoy.config.core.v3.SocketAddress": { address: true, port_value: true, protocol: oneOf("TCP"), ipv4_compat: true },
  "envoy.config.core.v3.Metadata": { filter_metadata: true },

  // Listeners and the HTTP connection manager.
  "envoy.config.listener.v3.Listener": {
    name: true,
    address: true,
    filter_chains: true,
    traffic_direction: true,
    metadata: true,
    stat_prefix: true,
    per_connection_buffer_limit_bytes: true,
  },
  "envoy.config.listener.v3.FilterChain": { filters: true, name: true },
  "envoy.config.listener.v3.Filter": { name: true, typed_config: anyOf(HCM) },
  [HCM]: {
    codec_type: oneOf("AUTO", "HTTP1"),
    stat_prefix: true,
    route_config: true,
    http_filters: true,
    use_remote_address: true,
    xff_num_trusted_hops: true,
    internal_address_config: true,
    skip_xff_append: true,
    generate_request_id: true,
    preserve_external_request_id: true,
    always_set_request_id_in_response: true,
    server_name: true,
    server_header_transformation: true,
  },
  [`${HCM}.InternalAddressConfig`]: { unix_sockets: true, cidr_ranges: true },
  "envoy.config.core.v3.CidrRange": { address_prefix: true, prefix_len: true },
  "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter": {
    name: true,
    typed_config: anyOf("envoy.extensions.filters.http.wasm.v3.Wasm", "envoy.extensions.filters.http.router.v3.Router"),
  },
  "envoy.extensions.filters.http.router.v3.Router": { suppress_envoy_headers: true },

  // The Wasm filter (proxy-wasm-abi.md §7.1).
  "envoy.extensions.filters.http.wasm.v3.Wasm": { config: true },
  "envoy.extensions.wasm.v3.PluginConfig": {
    name: true,
    root_id: true,
    vm_config: true,
    configuration: "opaque",
    fail_open: true,
    failure_policy: true,
    allow_on_headers_stop_iteration: true,
  },
  "envoy.extensions.wasm.v3.VmConfig": {
    vm_id: true,
    runtime: oneOf("envoy.wasm.runtime.v8"),
    code: true,
    configuration: "opaque",
    environment_variables: true,
    allow_precompiled: true,
    nack_on_code_cache_miss: true,
  },
  "envoy.extensions.wasm.v3.EnvironmentVariables": { host_env_keys: true, key_values: true },
  "envoy.config.core.v3.AsyncDataSource": { local: true },
  "envoy.config.core.v3.DataSource": { filename: true, inline_bytes: true, inline_string: true },

  // Routes.
  "envoy.config.route.v3.RouteConfiguration": {
    name: true,
    virtual_hosts: true,
    internal_only_headers: true,
    validate_clusters: true,
    ...headerMutation,
  },
  "envoy.config.route.v3.VirtualHost": {
    name: true,
    domains: true,
    routes: true,
    include_request_attempt_count: true,
    include_attempt_count_in_response: true,
    retry_policy: true,
    metadata: true,
    ...headerMutation,
  },
  "envoy.config.route.v3.Route": { name: true, match: true, route: true, direct_response: true, metadata: true, ...headerMutation },
  "envoy.config.route.v3.RouteMatch": { prefix: true, path: true, safe_regex: true, case_sensitive: true, headers: true },
  "envoy.config.route.v3.HeaderMatcher": {
    name: true,
    exact_match: true,
    safe_regex_match: true,
    prefix_match: true,
    suffix_match: true,
    contains_match: true,
    present_match: true,
    string_match: true,
    invert_match: true,
    treat_missing_header_as_empty: true,
  },
  "envoy.type.matcher.v3.StringMatcher": { exact: true, prefix: true, suffix: true, safe_regex: true, contains: true, ignore_case: true },
  "envoy.type.matcher.v3.RegexMatcher": { regex: true, google_re2: true },
  "envoy.type.matcher.v3.RegexMatcher.GoogleRE2": {},
  "envoy.config.route.v3.RouteAction": {
    cluster: true,
    timeout: true,
    retry_policy: true,
    host_rewrite_literal: true,
    auto_host_rewrite: true,
    prefix_rewrite: true,
  },
  "envoy.config.route.v3.RetryPolicy": {
    retry_on: true,
    num_retries: true,
    per_try_timeout: true,
    retriable_status_codes: true,
    retry_back_off: true,
    retry_host_predicate: true,
    host_selection_retry_max_attempts: true,
  },
  "envoy.config.route.v3.RetryPolicy.RetryBackOff": { base_interval: true, max_interval: true },
  "envoy.config.route.v3.RetryPolicy.RetryHostPredicate": {
    name: true,
    typed_config: anyOf("envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"),
  },
  "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate": {},
  "envoy.config.route.v3.DirectResponseAction": { status: true, body: true },
  "envoy.config.core.v3.HeaderValueOption": { header: true, append: true, append_action: true, keep_empty_value: true },
  "envoy.config.core.v3.HeaderValue": { key: true, value: true },

  // Clusters.
  "envoy.config.cluster.v3.Cluster": {
    name: true,
    type: oneOf("STATIC", "STRICT_DNS", "LOGICAL_DNS"),
    connect_timeout: true,
    lb_policy: oneOf("ROUND_ROBIN"),
    load_assignment: true,
    dns_lookup_family: true,
    dns_refresh_rate: true,
    metadata: true,
    per_connection_buffer_limit_bytes: true,
    // HTTP/2 to the upstream: the deprecated field or the upstream HttpProtocolOptions extension.
    http2_protocol_options: true,
    typed_extension_protocol_options: (value, path) => {
      if (!path.endsWith(`.${HTTP_PROTOCOL_OPTIONS}`)) throw notSupported(path, `only ${HTTP_PROTOCOL_OPTIONS} is supported`);
      anyOf(HTTP_PROTOCOL_OPTIONS)(value, path);
    },
  },
  [HTTP_PROTOCOL_OPTIONS]: { explicit_http_config: true },
  [`${HTTP_PROTOCOL_OPTIONS}.ExplicitHttpConfig`]: { http_protocol_options: true, http2_protocol_options: true },
  "envoy.config.core.v3.Http1ProtocolOptions": {},
  "envoy.config.core.v3.Http2ProtocolOptions": {},
  "envoy.config.endpoint.v3.ClusterLoadAssignment": { cluster_name: true, endpoints: true },
  "envoy.config.endpoint.v3.LocalityLbEndpoints": {
    locality: true,
    lb_endpoints: true,
    priority: only(0, "only priority 0 is load balanced"),
  },
  "envoy.config.endpoint.v3.LbEndpoint": {
    endpoint: true,
    metadata: true,
    health_status: oneOf("UNKNOWN", "HEALTHY"),
    load_balancing_weight: only(1, "round robin here ignores weights"),
  },
  "envoy.config.endpoint.v3.Endpoint": { address: true, hostname: true },

  // Stats.
  "envoy.config.metrics.v3.StatsConfig": { stats_tags: true, use_all_default_tags: true, histogram_bucket_settings: true },
  "envoy.config.metrics.v3.TagSpecifier": { tag_name: true, regex: true, fixed_value: true },
  "envoy.config.metrics.v3.HistogramBucketSettings": { match: true, buckets: true },
};

/** Throws a "not supported by the local proxy" ConfigError for the first field outside the subset. */
export function checkSupported(type: protobuf.Type, msg: JsonObject, path: string): void {
  const rules = supported[fullName(type)];
  for (const [key, value] of Object.entries(msg)) {
    const fpath = joinPath(path, key);
    const rule = rules?.[key];
    if (rule === undefined) throw notSupported(fpath);
    if (rule === "opaque") continue;
    const field = type.fields[key]!;
    field.resolve();
    const items: Array<[unknown, string]> =
      field instanceof protobuf.MapField
        ? Object.entries(value as JsonObject).map(([k, v]) => [v, joinPath(fpath, k)])
        : field.repeated
          ? (value as unknown[]).map((v, i) => [v, joinPath(fpath, i)])
          : [[value, fpath]];
    for (const [item, ipath] of items) {
      if (typeof rule === "function") rule(item, ipath);
      checkNested(field, item, ipath);
    }
  }
}

function checkNested(field: protobuf.Field, value: unknown, path: string): void {
  const t = field.resolvedType;
  if (!(t instanceof protobuf.Type)) return;
  if (fullName(t) === "google.protobuf.Any") {
    const inner = anyType(value as JsonObject);
    if (inner && !isOpaque(inner)) {
      const { "@type": _url, ...body } = value as JsonObject;
      checkSupported(inner, body, path);
    }
    return;
  }
  if (!isOpaque(t)) checkSupported(t, value as JsonObject, path);
}

/** The subset table as (message type, accepted fields) pairs, for tests and docs. */
export function supportedTypes(): Array<[string, string[]]> {
  return Object.entries(supported).map(([t, fields]) => [t, Object.keys(fields)]);
}
