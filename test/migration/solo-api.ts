// The public API of @solo-io/proxy-runtime 0.1.15 / HEAD 3cdeddd (assembly/runtime.ts, read with
// the project's search tool; sdk-anchors.md §3.1): every name a filter can import from
// "@solo-io/proxy-runtime", and the members of its classes a filter calls or overrides. The
// migration tests check that the compatibility layer provides every supported name (by compiling
// an import of all of them), that the examples import nothing else, and that the migration guide
// mentions every one.

/** How the compatibility layer provides a name. */
export type Support = "provided" | "unsupported";

export interface SoloExport {
  name: string;
  kind: "class" | "enum" | "function" | "type" | "variable";
  support: Support;
}

const provided = (kind: SoloExport["kind"], ...names: string[]): SoloExport[] =>
  names.map((name) => ({ name, kind, support: "provided" }));

export const soloExports: readonly SoloExport[] = [
  ...provided("class", "BaseContext", "RootContext", "Context", "HttpCallback", "HeaderPair", "Counter", "Gauge", "Histogram"),
  ...provided("type", "Headers"),
  ...provided("variable", "stream_context"),
  ...provided(
    "enum",
    "LogLevelValues", "WasmResultValues", "FilterStatusValues", "FilterHeadersStatusValues", "FilterMetadataStatusValues",
    "FilterTrailersStatusValues", "FilterDataStatusValues", "GrpcStatusValues", "MetricTypeValues", "PeerTypeValues",
    "HeaderMapTypeValues", "BufferTypeValues", "BufferFlagsValues", "StreamTypeValues",
  ),
  ...provided(
    "function",
    "registerRootContext", "makeHeaderPair", "log", "logLevel", "get_status", "set_tick_period_milliseconds",
    "get_current_time_nanoseconds", "get_property", "set_property", "continue_request", "continue_response",
    "send_local_response", "clear_route_cache", "get_shared_data", "set_shared_data", "register_shared_queue",
    "resolve_shared_queue", "dequeue_shared_queue", "enqueue_shared_queue", "add_header_map_value",
    "add_header_map_value_string", "get_header_map_value", "replace_header_map_value", "replace_header_map_value_string",
    "remove_header_map_value", "remove_header_map_value_string", "get_header_map_size", "get_buffer_bytes",
    "get_buffer_status", "define_metric", "increment_metric", "record_metric", "get_metric", "done",
    "proxy_set_effective_context", "call_foreign_function",
  ),
  // proxy-runtime's own dispatch and memory helpers: the SDK dispatches.
  { name: "Reference", kind: "class", support: "unsupported" },
  { name: "ensureRootContext", kind: "function", support: "unsupported" },
  { name: "ensureContext", kind: "function", support: "unsupported" },
  { name: "getBaseContext", kind: "function", support: "unsupported" },
  { name: "getContext", kind: "function", support: "unsupported" },
  { name: "getRootContext", kind: "function", support: "unsupported" },
  { name: "deleteContext", kind: "function", support: "unsupported" },
];

/** Members of proxy-runtime's classes that filters call or override (all provided). */
export const soloMembers: readonly string[] = [
  "context_id", "setEffectiveContext", "continueRequest", "onDone", "onDelete",
  "getConfiguration", "createContext", "validateConfiguration", "onConfigure", "onStart", "onTick", "onQueueReady",
  "done", "cancelPendingRequests", "httpCall", "onHttpCallResponse",
  "root_context", "onRequestHeaders", "onRequestMetadata", "onRequestBody", "onRequestTrailers", "onResponseHeaders",
  "onResponseMetadata", "onResponseBody", "onResponseTrailers", "onLog", "onNewConnection", "onDownstreamData",
  "onUpstreamData", "onDownstreamConnectionClose", "onUpstreamConnectionClose",
  "add", "replace", "get", "remove", "get_headers", "set_headers", "increment", "record", "metric_id",
];

/** Names the compatibility layer adds to proxy-runtime's API (documented in the guide). */
export const compatAdditions: readonly string[] = [
  "get_or_null", "has", "get_header_map_value_or_null", "get_property_or_null", "set", "get", "observe",
  "pendingHttpCallbacks", "HttpCallbackFunction", "RootContextFactory",
];

/** proxy-runtime's import specifiers and ours, in the order a migration rewrites them. */
export const specifiers: ReadonlyArray<readonly [solo: string, ours: string]> = [
  ["@solo-io/proxy-runtime/proxy", "proxy-wasm-as/assembly/proxy-runtime/proxy"],
  ["@solo-io/proxy-runtime", "proxy-wasm-as/assembly/proxy-runtime"],
];
