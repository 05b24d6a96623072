// Numeric enumerations of the proxy-wasm ABI as proxy-wasm-cpp-host and Envoy use them
// (proxy-wasm-abi.md §4). Kept apart from abi.ts (signatures) because every host-call family uses
// them.

/** proxy_status_t / WasmResult (§4.1). */
export enum WasmResult {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

/** proxy_buffer_type_t (§4.2). */
export enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
}
export const bufferTypeMax = BufferType.CallData;

/** proxy_map_type_t (§4.3). */
export enum MapType {
  HttpRequestHeaders = 0,
  HttpRequestTrailers = 1,
  HttpResponseHeaders = 2,
  HttpResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}
export const mapTypeMax = MapType.HttpCallResponseTrailers;

/** §4.4 */
export enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

/** §4.4 StreamType (proxy_continue_stream / proxy_close_stream). */
export enum StreamType {
  HttpRequest = 0,
  HttpResponse = 1,
  Downstream = 2,
  Upstream = 3,
}

/** §4.4 PeerType / CloseType: the argument of proxy_on_{downstream,upstream}_connection_close. */
export enum PeerType {
  Unknown = 0,
  Local = 1,
  Remote = 2,
}

/** spdlog levels, as proxy_log and proxy_get_log_level number them (§2.2, §4.4). */
export const wasmLogLevels = ["trace", "debug", "info", "warning", "error", "critical"] as const;

/** Host FailState (§4.4). */
export enum FailState {
  Ok = 0,
  UnableToCreateVm = 1,
  UnableToCloneVm = 2,
  MissingFunction = 3,
  UnableToInitializeCode = 4,
  StartFailed = 5,
  ConfigureFailed = 6,
  RuntimeError = 7,
}

/** WASI errno values the host returns (§4.4). */
export enum WasiErrno {
  Success = 0,
  Badf = 8,
  Fault = 21,
  Inval = 28,
  Noent = 44,
  Nosys = 52,
  Notsup = 58,
  Notcapable = 76,
}

/** gRPC status codes 0..16 (§4.4). */
export const grpcStatusMax = 16;
